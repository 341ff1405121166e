// A text input that controls a listbox of [role="option"] items (the WAI-ARIA
// combobox pattern), shared by the Add client page's owner search and its
// directory suggestions: which option is active, moving with ↑/↓, closing,
// and the state after htmx fills the list. What Enter and Escape do stays
// with each page's script. Also: taking a field's error away once it is fixed.
"use strict";

window.panelCombobox = (function () {
  function options(list) {
    return Array.from(list?.querySelectorAll('[role="option"]') || []);
  }

  function activeIndex(list) {
    return options(list).findIndex((option) => option.classList.contains("active"));
  }

  function setActive(input, list, index) {
    const all = options(list);
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

  // ↑/↓ move through the options; returns whether the key was one of them.
  function move(event, input, list) {
    const all = options(list);
    if (!all.length || (event.key !== "ArrowDown" && event.key !== "ArrowUp")) return false;
    event.preventDefault();
    const index = activeIndex(list);
    setActive(input, list, event.key === "ArrowDown"
      ? Math.min(index + 1, all.length - 1)
      : Math.max(index - 1, 0));
    return true;
  }

  function close(input, list) {
    if (list) list.replaceChildren();
    input.setAttribute("aria-expanded", "false");
    input.removeAttribute("aria-activedescendant");
  }

  // After htmx put new options in: expanded when there are any, none active.
  function filled(input, list) {
    input.setAttribute("aria-expanded", options(list).length > 0 ? "true" : "false");
    setActive(input, list, -1);
  }

  function clearError(field) {
    field.classList.remove("is-invalid");
    const feedback =
      document.getElementById(`${field.id}_error`)
      || field.parentElement?.querySelector(".invalid-feedback");
    if (feedback) feedback.remove();
  }

  return { options, activeIndex, setActive, move, close, filled, clearError };
})();
