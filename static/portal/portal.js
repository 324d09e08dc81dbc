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
window.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll("dialog[data-open-on-load]").forEach((d) => d.showModal());
  document.querySelectorAll("[data-close-dialog]").forEach((b) =>
    b.addEventListener("click", () => b.closest("dialog").close()));
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
  if (event.target.matches("input[type=radio][data-reveals]")) syncReveals();
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
