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
