// The Add client page: suggestions from the organization directory.
// The company name and the INN field are comboboxes (see
// clients/forms.py: autofill_input_attrs); htmx asks the server as the
// operator types and fills the listbox. Here: ↑/↓ move through the
// suggestions, Enter or a click chooses one, Escape closes the list. Choosing
// fills the inputs named in the option's data-autofill-values (the server
// decides which: the reseller's ticked fields); every field stays editable.
"use strict";

(function () {
  const byId = (id) => document.getElementById(id);
  const listOf = (input) => byId(input.dataset.autofillListbox);
  const optionsOf = (list) => Array.from(list?.querySelectorAll('[role="option"]') || []);
  const inputFor = (list) => document.querySelector(`[data-autofill-listbox="${list.id}"]`);

  function close(input) {
    const list = listOf(input);
    if (list) list.replaceChildren();
    input.setAttribute("aria-expanded", "false");
    input.removeAttribute("aria-activedescendant");
  }

  function activeIndex(list) {
    return optionsOf(list).findIndex((option) => option.classList.contains("active"));
  }

  function setActive(input, index) {
    const all = optionsOf(listOf(input));
    all.forEach((option, i) => {
      const active = i === index;
      option.classList.toggle("active", active);
      option.setAttribute("aria-selected", active ? "true" : "false");
      if (active) option.scrollIntoView({ block: "nearest" });
    });
    if (index >= 0 && all[index]) {
      input.setAttribute("aria-activedescendant", all[index].id);
    } else {
      input.removeAttribute("aria-activedescendant");
    }
  }

  function clearError(field) {
    field.classList.remove("is-invalid");
    const feedback =
      byId(`${field.id}_error`) || field.parentElement?.querySelector(".invalid-feedback");
    if (feedback) feedback.remove();
  }

  function fill(values) {
    const form = byId("client-create-form");
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
    const all = optionsOf(list);
    const open = Boolean(list && list.children.length > 0);
    if (event.key === "ArrowDown" && all.length) {
      event.preventDefault();
      setActive(input, Math.min(activeIndex(list) + 1, all.length - 1));
    } else if (event.key === "ArrowUp" && all.length) {
      event.preventDefault();
      setActive(input, Math.max(activeIndex(list) - 1, 0));
    } else if (event.key === "Enter" && all.length) {
      // With suggestions shown, Enter chooses (or closes them); it never submits the page.
      event.preventDefault();
      const index = activeIndex(list);
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
    input.setAttribute("aria-expanded", optionsOf(list).length > 0 ? "true" : "false");
    setActive(input, -1);
  });

  // The endpoint never fails, but the network may: an old list must not linger.
  for (const name of ["htmx:sendError", "htmx:responseError"]) {
    document.addEventListener(name, (event) => {
      const input = event.detail.elt;
      if (input instanceof HTMLInputElement && input.dataset.autofillListbox) close(input);
    });
  }
})();
