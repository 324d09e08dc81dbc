// A part of the page that reloads itself while something runs (the company page's Data card
// during a sync): <section id="…" data-poll="url">. Every few seconds (slower as it goes on)
// it fetches `url`, which answers the section as it is now, and swaps it in; it stops when
// the fresh section has no data-poll (the sync ended) or the answer is not the section.
// Without JavaScript, the section offers a Refresh link instead.
const FIRST_WAIT_MS = 2000;
const LONGEST_WAIT_MS = 30000;

function poll(section, wait) {
  setTimeout(async () => {
    let response;
    try {
      response = await fetch(section.dataset.poll, { credentials: "same-origin" });
    } catch {
      poll(section, Math.min(wait * 2, LONGEST_WAIT_MS));  // offline for a moment: try again later
      return;
    }
    if (!response.ok || response.redirected) return;  // signed out, gone: leave the page as it is
    const template = document.createElement("template");
    template.innerHTML = (await response.text()).trim();
    const fresh = template.content.firstElementChild;
    if (!fresh || fresh.id !== section.id) return;
    section.replaceWith(fresh);
    if (fresh.dataset.poll) poll(fresh, Math.min(wait * 1.25, LONGEST_WAIT_MS));
  }, wait);
}

window.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll("[data-poll]").forEach((section) => poll(section, FIRST_WAIT_MS));
});
