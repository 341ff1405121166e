// The panel's own behaviour. No inline scripts: everything lives here.
"use strict";

// A link to a form section with errors (the action bar's, the summary's)
// goes to the section and puts the cursor in its first field in error.
document.addEventListener("click", (event) => {
  const link = event.target instanceof Element ? event.target.closest('a[href^="#section-"]') : null;
  if (!link) return;
  const section = document.getElementById(link.hash.slice(1));
  const field = section?.querySelector(".is-invalid, [aria-invalid=true]");
  if (!section || !(field instanceof HTMLElement)) return;
  event.preventDefault();
  history.replaceState(null, "", link.hash);
  section.scrollIntoView({ block: "start", behavior: "instant" });
  field.focus({ preventScroll: true });
  // A field further down than one screen is brought into view above the action bar.
  field.scrollIntoView({ block: "nearest", behavior: "instant" });
});
