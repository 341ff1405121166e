// The Add client page (owner mode, owner search keyboard) and both the Add
// client and Edit client pages (one-click fixes, the error summary).
// Everything here enhances buttons and fields that also work without
// JavaScript (they then submit the page and the server does the same).
"use strict";

(function () {
  // The Add client and Edit client forms.
  const form = () => document.querySelector("form[data-client-form]");
  const byId = (id) => document.getElementById(id);

  // Owner: existing user or new user -------------------------------------------
  function ownerMode() {
    const checked = document.querySelector('input[name="owner-mode"]:checked');
    return checked ? checked.value : "new";
  }

  function setOwnerMode(mode) {
    const radio = document.querySelector(`input[name="owner-mode"][value="${mode}"]`);
    if (radio) radio.checked = true;
    showOwnerPanel();
  }

  function showOwnerPanel() {
    const mode = ownerMode();
    document.querySelectorAll("[data-owner-panel]").forEach((panel) => {
      panel.hidden = panel.dataset.ownerPanel !== mode;
    });
  }

  // Owner search: a combobox (combobox.js) over the htmx-filled listbox ----------
  const combobox = window.panelCombobox;
  const query = () => byId("id_owner-query");
  const results = () => byId("owner-results");

  function chooseOwner(userId, label) {
    const hidden = byId("id_owner-user");
    if (hidden) hidden.value = userId;
    const radio = document.querySelector(`input[name="owner-pick"][value="${userId}"]`);
    if (radio) radio.checked = true;
    const selected = byId("owner-selected");
    if (selected) {
      selected.textContent = "";
      const prefix = document.createTextNode((selected.dataset.selectedText || "✓") + " ");
      const strong = document.createElement("strong");
      strong.textContent = label;
      selected.append(prefix, strong);
    }
    if (query()) combobox.close(query(), results());
    else results()?.replaceChildren();
    setOwnerMode("existing");
  }

  function onQueryKeydown(event) {
    if (combobox.move(event, query(), results())) return;
    const all = combobox.options(results());
    if (event.key === "Enter") {
      // Enter chooses here (the only user found, too); it never submits the page.
      event.preventDefault();
      const active = combobox.activeIndex(results());
      const index = active >= 0 ? active : all.length === 1 ? 0 : -1;
      if (index >= 0) chooseOwner(all[index].dataset.userId, all[index].dataset.userLabel);
    } else if (event.key === "Escape") {
      combobox.close(query(), results());
    }
  }

  // One-click fixes ------------------------------------------------------------------
  const clearError = combobox.clearError;

  // The pairs come from the page (clients/contract_copy.py), as the server copies them.
  function copyContractPerson() {
    let pairs = {};
    try {
      pairs = JSON.parse(form().dataset.copyContractPerson || "{}");
    } catch (error) {
      pairs = {};
    }
    for (const [from, to] of Object.entries(pairs)) {
      const source = form().elements.namedItem(from);
      const target = form().elements.namedItem(to);
      if (source instanceof HTMLInputElement && target instanceof HTMLInputElement) {
        target.value = source.value;
      }
    }
    setOwnerMode("new");
  }

  document.addEventListener("click", (event) => {
    const target = event.target;
    if (!(target instanceof Element) || !form()) return;

    const copy = target.closest(".js-copy-contract");
    if (copy) {
      event.preventDefault();
      copyContractPerson();
      return;
    }
    const transliteration = target.closest(".js-use-transliteration");
    if (transliteration) {
      event.preventDefault();
      const field = byId(transliteration.dataset.target);
      if (field) {
        field.value = transliteration.dataset.value;
        clearError(field);
        field.focus();
      }
      return;
    }
    const selectOwner = target.closest(".js-select-owner");
    if (selectOwner) {
      event.preventDefault();
      chooseOwner(selectOwner.dataset.userId, selectOwner.dataset.userLabel);
      const email = byId("id_owner-new_email");
      if (email) clearError(email);
      return;
    }
    const option = target.closest('#owner-results [role="option"]');
    if (option) {
      chooseOwner(option.dataset.userId, option.dataset.userLabel);
    }
  });

  document.addEventListener("change", (event) => {
    if (event.target instanceof HTMLInputElement && event.target.name === "owner-mode") {
      showOwnerPanel();
    }
  });

  document.addEventListener("htmx:afterSwap", (event) => {
    if (event.detail.target && event.detail.target.id === "owner-results" && query()) {
      combobox.filled(query(), results());
    }
  });

  document.addEventListener("DOMContentLoaded", () => {
    if (!form()) return;
    document.documentElement.classList.add("js");
    showOwnerPanel();
    query()?.addEventListener("keydown", onQueryKeydown);
    const summary = byId("error-summary");
    if (summary) summary.focus();
  });
})();
