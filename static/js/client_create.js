// The Add client page: owner mode, owner search keyboard, one-click fixes.
// Everything here enhances buttons and fields that also work without
// JavaScript (they then submit the page and the server does the same).
"use strict";

(function () {
  const form = () => document.getElementById("client-create-form");
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

  // Owner search: a combobox over the htmx-filled listbox ------------------------
  const query = () => byId("id_owner-query");
  const results = () => byId("owner-results");
  const options = () => Array.from(results()?.querySelectorAll('[role="option"]') || []);

  function setActive(index) {
    const all = options();
    all.forEach((option, i) => {
      const active = i === index;
      option.classList.toggle("active", active);
      option.setAttribute("aria-selected", active ? "true" : "false");
      if (active) option.scrollIntoView({ block: "nearest" });
    });
    if (index >= 0 && all[index]) {
      query().setAttribute("aria-activedescendant", all[index].id);
    } else {
      query().removeAttribute("aria-activedescendant");
    }
  }

  function activeIndex() {
    return options().findIndex((option) => option.classList.contains("active"));
  }

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
    const list = results();
    if (list) list.replaceChildren();
    if (query()) {
      query().setAttribute("aria-expanded", "false");
      query().removeAttribute("aria-activedescendant");
    }
    setOwnerMode("existing");
  }

  function onQueryKeydown(event) {
    const all = options();
    if (event.key === "ArrowDown" && all.length) {
      event.preventDefault();
      setActive(Math.min(activeIndex() + 1, all.length - 1));
    } else if (event.key === "ArrowUp" && all.length) {
      event.preventDefault();
      setActive(Math.max(activeIndex() - 1, 0));
    } else if (event.key === "Enter") {
      // Enter chooses here; it never submits the page from the search box.
      event.preventDefault();
      const index = activeIndex() >= 0 ? activeIndex() : all.length === 1 ? 0 : -1;
      if (index >= 0) chooseOwner(all[index].dataset.userId, all[index].dataset.userLabel);
    } else if (event.key === "Escape") {
      results()?.replaceChildren();
      query().setAttribute("aria-expanded", "false");
    }
  }

  // One-click fixes ------------------------------------------------------------------
  function clearError(field) {
    field.classList.remove("is-invalid");
    const feedback = byId(`${field.id}_error`) || field.parentElement.querySelector(".invalid-feedback");
    if (feedback) feedback.remove();
  }

  function copyContractPerson() {
    const pairs = [
      ["id_contract_person-first_name", "id_owner-new_first_name"],
      ["id_contract_person-last_name", "id_owner-new_last_name"],
      ["id_contract_person-middle_name", "id_owner-new_middle_name"],
      ["id_contract_person-email", "id_owner-new_email"],
    ];
    for (const [from, to] of pairs) {
      const source = byId(from);
      const target = byId(to);
      if (source && target) target.value = source.value;
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
    if (event.detail.target && event.detail.target.id === "owner-results") {
      const expanded = options().length > 0;
      query()?.setAttribute("aria-expanded", expanded ? "true" : "false");
      setActive(-1);
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
