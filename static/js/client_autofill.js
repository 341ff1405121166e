// The Add client page: suggestions from the organization directory.
// The company name and the INN field are comboboxes (see
// clients/forms.py: autofill_input_attrs; combobox.js); htmx asks the server as the
// operator types and fills the listbox. Here: ↑/↓ move through the
// suggestions, Enter or a click chooses one, Escape closes the list. Choosing
// fills the inputs named in the option's data-autofill-values (the server
// decides which: the reseller's ticked fields); every field stays editable.
"use strict";

(function () {
  const combobox = window.panelCombobox;
  const byId = (id) => document.getElementById(id);
  const listOf = (input) => byId(input.dataset.autofillListbox);
  const inputFor = (list) => document.querySelector(`[data-autofill-listbox="${list.id}"]`);

  const close = (input) => combobox.close(input, listOf(input));
  const clearError = combobox.clearError;

  function fill(values) {
    const form = document.querySelector("form[data-client-form]");
    if (!form) return;
    for (const [name, value] of Object.entries(values)) {
      const field = form.elements.namedItem(name);
      if (!(field instanceof HTMLInputElement || field instanceof HTMLSelectElement
        || field instanceof HTMLTextAreaElement)) continue;
      if (field instanceof HTMLSelectElement
        && !Array.from(field.options).some((option) => option.value === value)) continue;
      field.value = value;
      clearError(field);
      field.classList.add("is-autofilled");
      // "change", not "input": an "input" would ask the directory again.
      field.dispatchEvent(new Event("change", { bubbles: true }));
    }
    const status = byId("autofill-status");
    if (status) status.textContent = status.dataset.filledText || "";
    // The page may build on what was filled (client_create.js: the owner).
    form.dispatchEvent(new CustomEvent("autofill:filled", {
      bubbles: true, detail: { names: Object.keys(values) },
    }));
  }

  function choose(input, option) {
    let values = {};
    try {
      values = JSON.parse(option.dataset.autofillValues || "{}");
    } catch (error) {
      values = {};
    }
    // A request still on its way must not reopen the list over the choice.
    if (window.htmx) window.htmx.trigger(input, "htmx:abort");
    input.dataset.autofillChosen = values[input.name] ?? input.value;
    close(input);
    fill(values);
    input.focus();
  }

  document.addEventListener("keydown", (event) => {
    const input = event.target;
    if (!(input instanceof HTMLInputElement) || !input.dataset.autofillListbox) return;
    const list = listOf(input);
    if (combobox.move(event, input, list)) return;
    const all = combobox.options(list);
    const open = Boolean(list && list.children.length > 0);
    if (event.key === "Enter" && all.length) {
      // With suggestions shown, Enter chooses (or closes them); it never submits the page.
      event.preventDefault();
      const index = combobox.activeIndex(list);
      if (index >= 0) choose(input, all[index]);
      else close(input);
    } else if (event.key === "Escape" && open) {
      event.preventDefault();
      close(input);
    }
  });

  document.addEventListener("click", (event) => {
    const target = event.target;
    if (!(target instanceof Element)) return;
    const option = target.closest(".autofill-results [role='option']");
    if (option) {
      const input = inputFor(option.closest(".autofill-results"));
      if (input) choose(input, option);
      return;
    }
    // A click elsewhere closes any open list.
    document.querySelectorAll("[data-autofill-listbox]").forEach((input) => {
      if (input !== target && listOf(input)?.children.length) close(input);
    });
  });

  document.addEventListener("input", (event) => {
    const field = event.target;
    if (!(field instanceof HTMLElement)) return;
    field.classList.remove("is-autofilled");
    delete field.dataset.autofillChosen;  // typed by hand: ask again
  });

  // Nor may a delayed request for the text typed just before choosing.
  document.addEventListener("htmx:beforeRequest", (event) => {
    const input = event.detail.elt;
    if (input instanceof HTMLInputElement && input.dataset.autofillListbox
      && input.dataset.autofillChosen !== undefined
      && input.value === input.dataset.autofillChosen) {
      event.preventDefault();
    }
  });

  document.addEventListener("htmx:afterSwap", (event) => {
    const list = event.detail.target;
    if (!(list instanceof Element) || !list.classList.contains("autofill-results")) return;
    const input = inputFor(list);
    if (!input) return;
    combobox.filled(input, list);
  });

  // The endpoint never fails, but the network may: an old list must not linger.
  for (const name of ["htmx:sendError", "htmx:responseError"]) {
    document.addEventListener(name, (event) => {
      const input = event.detail.elt;
      if (input instanceof HTMLInputElement && input.dataset.autofillListbox) close(input);
    });
  }
})();
