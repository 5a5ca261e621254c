"""Background task of the what-if simulation (run by `leitplanke worker`)."""

from __future__ import annotations

from leitplanke.core.background import background_task


@background_task(max_attempts=1)
def run_simulation(*, simulation_id: int) -> None:
    from .simulation_services import simulation_run

    simulation_run(simulation_id=simulation_id)
