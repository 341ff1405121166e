// The Add a user page: typing or choosing in a section picks that section's
// mode (existing or new user). The page works without it: the mode radios
// are plain inputs.
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  const form = document.querySelector('[data-testid="user-add-form"]');
  if (!form) return;
  const pick = (section) => {
    const radio = section?.querySelector('input[name="user-mode"]');
    if (radio) radio.checked = true;
  };
  form.addEventListener("focusin", (event) => {
    if (event.target.name !== "user-mode") pick(event.target.closest("[data-user-mode]"));
  });
  form.addEventListener("change", (event) => {
    if (event.target.name === "user-user") pick(event.target.closest("[data-user-mode]"));
  });
});
