// The client list and client page: service-rule colours and the filter form.
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  // A rule's colour arrives as data, not as an inline style (no 'unsafe-inline' needed).
  for (const badge of document.querySelectorAll("[data-rule-colour]")) {
    const colour = badge.dataset.ruleColour;
    if (/^#[0-9A-Fa-f]{6}$/.test(colour)) {
      badge.style.setProperty("--rule-colour", colour);
    }
  }

  // Filters apply as soon as a select or a checkbox changes; the search box
  // and the dates wait for Enter or the Apply button. Empty fields stay out
  // of the URL, which keeps a shared link short.
  const filters = document.querySelector("form[data-autosubmit]");
  if (filters) {
    filters.addEventListener("change", (event) => {
      if (event.target.matches("select, input[type=checkbox]")) {
        filters.requestSubmit();
      }
    });
    filters.addEventListener("submit", () => {
      for (const field of filters.elements) {
        if (field.name && field.value === "" && !field.disabled) {
          field.disabled = true;
          field.dataset.emptyOnSubmit = "1";
        }
      }
    });
    // Coming back through the history shows the page as it was left.
    window.addEventListener("pageshow", () => {
      for (const field of filters.querySelectorAll("[data-empty-on-submit]")) {
        field.disabled = false;
        delete field.dataset.emptyOnSubmit;
      }
    });
  }
});
