// The review queue. Message text is rendered with textContent only.
"use strict";
const $ = (id) => document.getElementById(id);
function csrfToken() {
  const found = document.cookie.split("; ").find((c) => c.startsWith("kat_csrf="));
  return found ? decodeURIComponent(found.slice("kat_csrf=".length)) : "";
}
function el(tag, text) {
  const node = document.createElement(tag);
  if (text !== undefined) node.textContent = text;
  return node;
}
async function load() {
  const reply = await fetch("/api/review", { credentials: "same-origin" });
  if (reply.status === 401) { location.href = "/"; return; }
  if (reply.status === 403) { $("status").textContent = "Your role does not include the review queue."; return; }
  const data = await reply.json();
  const body = $("queue").querySelector("tbody");
  body.replaceChildren();
  if (!data.entries.length) $("status").textContent = "Nothing to review.";
  for (const entry of data.entries) {
    const row = el("tr");
    row.dataset.id = entry.id;
    const why = entry.reason.replace(/_/g, " ") + (entry.topic ? ` (${entry.topic.replace(/_/g, " ")})` : "");
    row.append(el("td", entry.at.slice(0, 16).replace("T", " ")), el("td", why),
      el("td", entry.channel), el("td", entry.text));
    const cell = el("td");
    const select = el("select");
    select.setAttribute("aria-label", `Label for: ${entry.text.slice(0, 60)}`);
    select.append(el("option", "choose a label"));
    for (const label of data.labels) {
      const option = el("option", label.replace(/_/g, " "));
      option.value = label;
      if (label === entry.label) option.selected = true;
      select.append(option);
    }
    const save = el("button", "Save");
    save.type = "button";
    save.addEventListener("click", async () => {
      const result = await fetch(`/api/review/${entry.id}/label`, {
        method: "POST", credentials: "same-origin",
        headers: { "Content-Type": "application/json", "X-CSRF-Token": csrfToken() },
        body: JSON.stringify({ label: select.value }),
      });
      $("status").textContent = result.ok ? "Label saved." : (await result.json()).error;
    });
    cell.append(select, save);
    row.append(cell);
    body.append(row);
  }
}
load();
