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

  // The contract person's data for the new owner and the contacts ----------------
  // The pairs come from the page (clients/contract_copy.py), as the server copies them.
  function pairs(attribute) {
    try {
      return JSON.parse(form().dataset[attribute] || "{}");
    } catch (error) {
      return {};
    }
  }
  const field = (name) => {
    const element = form().elements.namedItem(name);
    return element instanceof HTMLInputElement ? element : null;
  };
  const ownerPairs = () => Object.entries(pairs("copyContractPerson"))
    .map(([from, to]) => [field(from), field(to)])
    .filter(([source, target]) => source && target);

  // While the owner follows the contract person, a change there is copied to
  // the owner's fields; editing an owner field by hand ends it.
  let ownerFollows = false;

  function copyToOwner() {
    for (const [source, target] of ownerPairs()) {
      if (target.value !== source.value) {
        target.value = source.value;
        clearError(target);
      }
      target.classList.toggle("is-copied", source.value !== "");
    }
  }

  function followContractPerson(follows) {
    ownerFollows = follows;
    const note = byId("owner-follows-note");
    if (note) note.hidden = !follows;
  }

  function copyContractPerson() {
    copyToOwner();
    followContractPerson(true);
    setOwnerMode("new");
  }

  // Whether the new owner's fields hold nothing the operator typed there:
  // each is empty or already the contract person's.
  function ownerUntouched() {
    return ownerPairs().every(([source, target]) => target.value === "" || target.value === source.value);
  }

  // Autofill filled the contract person (client_autofill.js): a new owner
  // nobody has typed yet becomes the contract person, as the button would.
  function onAutofilled(event) {
    const names = event.detail?.names || [];
    const contract = ownerPairs().some(([source]) => names.includes(source.name));
    if (contract && ownerMode() === "new" && ownerUntouched()) {
      copyToOwner();
      followContractPerson(true);
      const status = byId("autofill-status");
      const note = byId("owner-follows-note");
      if (status && note) status.textContent += " " + note.textContent;
    }
  }

  // An empty contacts field takes the contract person's value (the email),
  // and keeps following it until the operator types there.
  function fillEmptyContacts(source) {
    const to = pairs("contractDefaults")[source.name];
    const target = to ? field(to) : null;
    if (!target) return;
    if (target.value === "" || target.dataset.followed === target.value) {
      target.value = source.value;
      target.dataset.followed = source.value;
      target.classList.toggle("is-copied", source.value !== "");
      if (source.value) clearError(target);
    }
  }

  function onContractPersonChange(source) {
    fillEmptyContacts(source);
    if (ownerFollows) copyToOwner();
  }

  // A page shown again (after an error) keeps following what it followed.
  function restoreFollowing() {
    const owner = ownerPairs();
    if (ownerMode() === "new" && owner.some(([source]) => source.value !== "")
      && owner.every(([source, target]) => target.value === source.value)) {
      copyToOwner();
      followContractPerson(true);
    }
    for (const [from, to] of Object.entries(pairs("contractDefaults"))) {
      const source = field(from);
      const target = field(to);
      if (source && target && source.value !== "" && target.value === source.value) {
        target.dataset.followed = target.value;
        target.classList.add("is-copied");
      }
    }
  }

  function onTyped(event) {
    const target = event.target;
    if (!(target instanceof HTMLInputElement) || !form()?.contains(target)) return;
    if (ownerPairs().some(([source]) => source === target)) {
      onContractPersonChange(target);
    } else if (ownerPairs().some(([, owner]) => owner === target)) {
      // The operator's own owner: nothing is copied over it any more.
      target.classList.remove("is-copied");
      followContractPerson(false);
    } else if (target.dataset.followed !== undefined) {
      target.classList.remove("is-copied");
      delete target.dataset.followed;
    }
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
    } else if (event.target instanceof HTMLInputElement
      && ownerPairs().some(([source]) => source === event.target)) {
      onContractPersonChange(event.target);  // autofill sets values and says "change"
    }
  });
  document.addEventListener("input", onTyped);
  document.addEventListener("autofill:filled", onAutofilled);

  document.addEventListener("htmx:afterSwap", (event) => {
    if (event.detail.target && event.detail.target.id === "owner-results" && query()) {
      combobox.filled(query(), results());
    }
  });

  document.addEventListener("DOMContentLoaded", () => {
    if (!form()) return;
    document.documentElement.classList.add("js");
    showOwnerPanel();
    restoreFollowing();
    query()?.addEventListener("keydown", onQueryKeydown);
    const summary = byId("error-summary");
    if (summary) summary.focus();
  });
})();
