// Small progressive enhancements; every page works without this file.
(function () {
  "use strict";
  document.addEventListener("click", function (event) {
    var toggle = event.target.closest("[data-toggle-nav]");
    if (toggle) {
      var nav = document.getElementById(toggle.getAttribute("aria-controls"));
      var open = toggle.getAttribute("aria-expanded") === "true";
      toggle.setAttribute("aria-expanded", String(!open));
      if (nav) nav.classList.toggle("open", !open);
    }
    var confirmer = event.target.closest("[data-confirm]");
    if (confirmer && !window.confirm(confirmer.getAttribute("data-confirm"))) {
      event.preventDefault();
    }
  });
  document.addEventListener("click", function (event) {
    var copy = event.target.closest("[data-copy]");
    if (copy && navigator.clipboard) {
      var source = document.getElementById(copy.getAttribute("data-copy"));
      if (source) navigator.clipboard.writeText(source.value || source.textContent);
    }
    if (event.target.closest("[data-print]")) window.print();
  });
  // The customer picker of the new-case form: a chosen match fills in the customer number
  // (and the customer's language).
  document.addEventListener("click", function (event) {
    var pick = event.target.closest("[data-pick-customer]");
    if (!pick) return;
    var form = pick.closest("form");
    var number = form && form.querySelector("[name=customer_number]");
    if (number) {
      number.value = pick.getAttribute("data-pick-customer");
      number.dispatchEvent(new Event("change", { bubbles: true }));
    }
    var language = form && form.querySelector("select[name=language]");
    if (language && pick.getAttribute("data-pick-language")) language.value = pick.getAttribute("data-pick-language");
    var matches = document.getElementById("customer-matches");
    if (matches) {
      matches.textContent = "";
      var chosen = document.createElement("p");
      chosen.className = "customer-chosen";
      chosen.textContent = "\u2713 " + pick.getAttribute("data-pick-label");
      matches.appendChild(chosen);
    }
    if (number) number.focus();
  });
  // Bulk actions on the case list: the bar counts the selection and shows the field of the
  // chosen action only (without this script every field is shown).
  function bulkUpdate(bar) {
    var form = bar.closest("form");
    var count = form ? form.querySelectorAll("input[name=ids]:checked").length : 0;
    var counter = bar.querySelector("[data-bulk-count]");
    if (counter) counter.textContent = count ? "(" + count + ")" : "";
    if (count) bar.removeAttribute("data-empty"); else bar.setAttribute("data-empty", "");
    var action = bar.querySelector("[name=action]");
    bar.querySelectorAll("[data-bulk-for]").forEach(function (field) {
      field.hidden = !action || field.getAttribute("data-bulk-for") !== action.value;
    });
  }
  // The process editor's effect rows: only the parameters of the chosen type are shown.
  var EFFECT_PARAMS = {
    set_field: ["field", "value"], send_template: ["template"], clock: ["clock_action", "clock"],
    escalation: ["escalation_action", "level"], webhook: ["endpoint"], decide: ["table"]
  };
  function effectUpdate(row) {
    var type = row.querySelector("select[name$='-type']");
    var wanted = EFFECT_PARAMS[type ? type.value : ""] || [];
    row.querySelectorAll("[data-effect-param]").forEach(function (field) {
      var name = field.getAttribute("data-effect-param");
      field.hidden = wanted.indexOf(name) < 0 && !field.classList.contains("has-error");
    });
  }
  document.addEventListener("change", function (event) {
    var form = event.target.closest("form");
    var bar = form && form.querySelector("[data-bulk-bar]");
    if (bar) bulkUpdate(bar);
    var row = event.target.closest("[data-effect-row]");
    if (row) effectUpdate(row);
  });
  document.addEventListener("htmx:afterSettle", function () {
    document.querySelectorAll("[data-bulk-bar]").forEach(bulkUpdate);
    document.querySelectorAll("[data-effect-row]").forEach(effectUpdate);  // rows added by "Add an effect"
    var focus = document.querySelector("[data-focus-on-load]");
    if (focus) { focus.removeAttribute("data-focus-on-load"); focus.focus(); }
  });
  // After a failed submit the page comes back with errors: focus moves to the error summary
  // (or to the first field with an error), so that keyboard and screen reader users land on it.
  function focusFirstError(root) {
    var summary = root.querySelector(".form-errors");
    if (summary) {
      if (!summary.hasAttribute("tabindex")) summary.setAttribute("tabindex", "-1");
      summary.focus();
      return true;
    }
    var field = root.querySelector(".has-error input, .has-error select, .has-error textarea");
    if (field) { field.focus(); return true; }
    return false;
  }
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-bulk-bar]").forEach(bulkUpdate);
    document.querySelectorAll("[data-effect-row]").forEach(effectUpdate);
    focusFirstError(document);
  });
  document.addEventListener("htmx:afterSwap", function (event) {
    var status = event.detail.xhr && event.detail.xhr.status;
    if (status >= 400) focusFirstError(document);
  });
  // A form answered with its errors (400, 409, 422) is swapped in like any answer, so that
  // htmx forms show what went wrong and keep what was typed.
  document.addEventListener("htmx:beforeSwap", function (event) {
    var status = event.detail.xhr.status;
    if (status === 400 || status === 409 || status === 422) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });
})();
