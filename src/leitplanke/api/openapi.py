"""The OpenAPI document as the API really answers: every error is a problem document.

django-ninja documents every response under the renderer's media type (`application/json`),
but errors are answered as `application/problem+json` (RFC 9457, `api/problems.py`). After
ninja has built the document, `document_errors` rewrites it so that each operation lists
every 4xx it can answer, each under `application/problem+json` with the `Problem` schema:

- the statuses the router declares for the operation (409, 412, 413, 415, 428, ...);
- 422 for every operation: any query string, path or body may carry text the database
  cannot store (`api/text_input.py`), and pydantic validates every parameter;
- 401 and 403 for every operation that needs authentication (no token; a token without
  the scope or a role without the capability);
- 404 for every operation with a path parameter (unknown or invisible object);
- 400 for every operation with a request body (a body that is not JSON).

A test (`tests/api/test_openapi_errors.py`) and the fuzzing suite
(`tests/api/test_fuzzing.py`, Schemathesis) hold the document to what the API answers.
"""

from __future__ import annotations

from typing import Any

PROBLEM_MEDIA_TYPE = "application/problem+json"
PROBLEM_REF = "#/components/schemas/Problem"
HTTP_METHODS = ("get", "put", "post", "patch", "delete", "head", "options")
DESCRIPTIONS = {
    400: "Bad Request: the body is not valid JSON.",
    401: "Unauthorized: no valid token or session.",
    403: "Forbidden: the token lacks the scope, or the user the capability.",
    404: "Not Found: no such object, or one the caller may not see.",
    409: "Conflict",
    412: "Precondition Failed: If-Match names an outdated version.",
    413: "Content Too Large",
    415: "Unsupported Media Type",
    422: "Unprocessable Content: a field is not valid (the problem's `errors` point at it).",
    428: "Precondition Required: send If-Match.",
    429: "Too Many Requests (see Retry-After).",
}


def _problem_content() -> dict[str, Any]:
    return {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": PROBLEM_REF}}}


def error_statuses(operation: dict[str, Any]) -> set[int]:
    """The 4xx statuses an operation can answer, from what it declares and what it takes."""
    declared = {int(status) for status in operation.get("responses", {}) if str(status).isdigit() and 400 <= int(status) < 500}
    statuses = declared | {422}
    if operation.get("security"):
        statuses |= {401, 403}
    if any(parameter.get("in") == "path" for parameter in operation.get("parameters", [])):
        statuses.add(404)
    content = operation.get("requestBody", {}).get("content", {})
    if any(media_type == "application/json" or media_type.endswith("+json") for media_type in content):
        statuses.add(400)
    return statuses


def document_errors(schema: dict[str, Any]) -> dict[str, Any]:
    """Rewrites `schema` in place (and returns it): every 4xx of every operation documented
    as a problem document; `If-Match` documented as required where the operation requires it."""
    for path_item in schema.get("paths", {}).values():
        for method in HTTP_METHODS:
            operation = path_item.get(method)
            if operation is None:
                continue
            if method == "patch":
                # Every PATCH requires If-Match (428 without). It is declared optional in the
                # signature so that its absence answers 428 `precondition_required`, not 422.
                for parameter in operation.get("parameters", []):
                    if parameter.get("in") == "header" and parameter.get("name") == "If-Match":
                        parameter["required"] = True
            responses = operation.setdefault("responses", {})
            for status in sorted(error_statuses(operation)):
                entry = responses.pop(status, None) or responses.pop(str(status), None) or {}
                if entry.get("description") in (None, "", "Unknown Status Code"):
                    entry["description"] = DESCRIPTIONS.get(status, "Error")
                entry["content"] = _problem_content()
                responses[status] = entry
    return schema
