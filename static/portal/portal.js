// Progressive enhancement only: every page works without this file.
document.documentElement.classList.add("js");

document.addEventListener("change", (event) => {
  const el = event.target;
  if (el.matches("select[data-autosubmit]")) el.form.requestSubmit();
});

// Copy buttons: <button data-copy="#input-id">.
document.addEventListener("click", async (event) => {
  const button = event.target.closest("[data-copy]");
  if (!button) return;
  const source = document.querySelector(button.dataset.copy);
  if (!source) return;
  const text = source.value ?? source.textContent;
  try {
    await navigator.clipboard.writeText(text);
  } catch {
    source.select?.();
    document.execCommand("copy");
  }
  const done = button.dataset.copied;
  if (done) {
    const label = button.textContent;
    button.textContent = done;
    setTimeout(() => { button.textContent = label; }, 2000);
  }
});

// Native <dialog>s that should open when the page loads: <dialog data-open-on-load>.
// <dialog data-return-focus="#id">: where focus goes when it closes (else: what opened it).
window.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll("dialog[data-open-on-load]").forEach((d) => d.showModal());
  document.querySelectorAll("[data-close-dialog]").forEach((b) =>
    b.addEventListener("click", () => b.closest("dialog").close()));
  document.querySelector("[data-focus-on-load]")?.focus();
});
document.addEventListener("close", (event) => {
  const dialog = event.target;
  if (!(dialog instanceof HTMLDialogElement)) return;
  const back = dialog.returnTo ?? document.querySelector(dialog.dataset.returnFocus);
  dialog.returnTo = null;
  back?.focus();
}, true);  // "close" does not bubble: listen while it goes down

// Forms that ask first: <form data-confirm="#dialog" data-confirm-field="#input"
// [data-confirm-when="selector"]>. The dialog's [data-confirm-accept] button ticks the
// field (a checkbox, or a hidden input set to "true") and submits; without JavaScript
// the server asks instead.
document.addEventListener("submit", (event) => {
  const form = event.target;
  const dialog = form.dataset.confirm && document.querySelector(form.dataset.confirm);
  const field = form.dataset.confirmField && form.querySelector(form.dataset.confirmField);
  if (!dialog || !field) return;
  if (form.dataset.confirmWhen && !form.querySelector(form.dataset.confirmWhen)) return;
  if (field.type === "checkbox" ? field.checked : field.value) return;
  event.preventDefault();
  dialog.confirmForm = form;
  dialog.confirmField = field;
  dialog.returnTo = event.submitter ?? document.activeElement;
  dialog.showModal();
});
document.addEventListener("click", (event) => {
  const accept = event.target.closest("[data-confirm-accept]");
  if (!accept) return;
  const dialog = accept.closest("dialog");
  const { confirmForm: form, confirmField: field, returnTo: submitter } = dialog;
  if (field.type === "checkbox") field.checked = true;
  else field.value = "true";
  dialog.returnTo = null;  // the page is leaving: no focus to give back
  dialog.close();
  form.requestSubmit(submitter?.form === form && submitter.type === "submit" ? submitter : null);
});

// The relink box shows only once the client ID of a set with linked companies changes:
// <fieldset data-relink-watch="stored id"> and <div data-relink-box hidden>.
function syncRelinkBox() {
  const box = document.querySelector("[data-relink-box]");
  if (!box) return;
  const changed = [...document.querySelectorAll("[data-relink-watch]")].some((group) => {
    const input = group.querySelector("input[name$='client_id']");
    return !group.hidden && input && input.value.trim() !== group.dataset.relinkWatch;
  });
  if (changed) box.hidden = false;
  else if (!box.querySelector("input:checked")) box.hidden = true;
}
document.addEventListener("input", (event) => {
  if (event.target.closest("[data-relink-watch]")) syncRelinkBox();
});

// Radio groups that show only the chosen group of fields:
// <input type=radio data-reveals="group-name" value="x"> and <div data-group="group-name" data-value="x">.
function syncReveals() {
  document.querySelectorAll("input[type=radio][data-reveals]:checked").forEach((radio) => {
    document.querySelectorAll(`[data-group="${radio.dataset.reveals}"]`).forEach((group) => {
      group.hidden = group.dataset.value !== radio.value;
    });
  });
}
document.addEventListener("change", (event) => {
  if (event.target.matches("input[type=radio][data-reveals]")) {
    syncReveals();
    syncRelinkBox();
  }
});
window.addEventListener("DOMContentLoaded", syncReveals);

// A button that asks first: <button data-confirm-dialog="dialog-id"> opens that <dialog>
// (whose form confirms) instead of submitting; without JavaScript its form posts, and the
// server answers with the same confirmation as a page. Focus goes back to it on close.
document.addEventListener("click", (event) => {
  const opener = event.target.closest("[data-confirm-dialog]");
  if (!opener) return;
  const dialog = document.getElementById(opener.dataset.confirmDialog);
  if (!dialog || typeof dialog.showModal !== "function") return;
  event.preventDefault();
  dialog.addEventListener("close", () => opener.focus(), { once: true });
  dialog.showModal();
});

// The main navigation on a narrow screen: a menu button (<button data-nav-toggle
// aria-controls="sidenav">) shows and hides it. Without JavaScript it is always shown.
function setNav(button, open) {
  button.setAttribute("aria-expanded", String(open));
  document.getElementById(button.getAttribute("aria-controls"))?.classList.toggle("sidenav--open", open);
}
document.addEventListener("click", (event) => {
  const button = event.target.closest("[data-nav-toggle]");
  if (button) setNav(button, button.getAttribute("aria-expanded") !== "true");
});
document.addEventListener("keydown", (event) => {
  const button = document.querySelector("[data-nav-toggle][aria-expanded=true]");
  if (event.key === "Escape" && button) {
    setNav(button, false);
    button.focus();
  }
});

// The reader's time zone, so that the server writes times as the reader's clock shows them.
try {
  const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  if (/^[A-Za-z0-9_/+-]+$/.test(zone) && !document.cookie.split("; ").includes(`tz=${zone}`)) {
    document.cookie = `tz=${zone}; path=/; max-age=31536000; SameSite=Lax`;
  }
} catch { /* no Intl: times stay in the server's zone */ }
