// Staff inbox. All ticket data is rendered with textContent: nothing a patient wrote
// is ever interpreted as HTML.
"use strict";
const $ = (id) => document.getElementById(id);
// The CSRF token the login set (cookie kat_csrf): the server wants it back in a header
// on every POST, which a page elsewhere cannot do (it cannot read this cookie).
function csrfToken() {
  const found = document.cookie.split("; ").find((c) => c.startsWith("kat_csrf="));
  return found ? decodeURIComponent(found.slice("kat_csrf=".length)) : "";
}
// Every POST is JSON (the server refuses anything else) and carries the token.
const post = (path, body = {}) => fetch(path, {
  method: "POST",
  credentials: "same-origin",
  headers: { "Content-Type": "application/json", "X-CSRF-Token": csrfToken() },
  body: JSON.stringify(body),
});
const api = async (path, body) => {
  const reply = body === undefined
    ? await fetch(path, { credentials: "same-origin" })
    : await post(path, body);
  if (reply.status === 401) { showLogin(); throw new Error("login required"); }
  return reply.json();
};
// The conversation's language (slot language, kept on the ticket): staff reply in it.
const LANGUAGE_NAMES = { en: "English", es: "Spanish" };
function languageName(code) {
  return LANGUAGE_NAMES[code] || code || "English";
}

function el(tag, text, className) {
  const node = document.createElement(tag);
  if (text !== undefined) node.textContent = text;
  if (className) node.className = className;
  return node;
}
let me = null; // the logged-in staff user, to tell one's own tickets from others'
function showLogin() { $("login").hidden = false; $("inbox").hidden = true; $("logout").hidden = true; }
const TICKET_ROLES = ["clinician", "front_desk", "admin"];
const REVIEW_ROLES = ["reviewer", "admin"];
async function showInbox() {
  const who = await api("/api/me");
  me = who.user;
  $("who").textContent = who.name || me;
  $("login").hidden = true; $("logout").hidden = false;
  // Reviewers see the clinic's pages; only ticket roles see tickets.
  $("clinic-links").hidden = !who.roles.some((r) => REVIEW_ROLES.includes(r));
  const tickets = who.roles.some((r) => TICKET_ROLES.includes(r));
  $("inbox").hidden = !tickets;
  if (tickets) await refresh();
}
async function refresh() {
  const data = await api("/api/tickets");
  const list = $("list");
  list.replaceChildren();
  if (!data.tickets.length) list.append(el("p", "No open tickets."));
  // A client's suspected floods (beyond its hand-off limit) are one item.
  for (const f of data.floods || []) {
    const item = el("div", undefined, "ticket flood");
    item.setAttribute("role", "listitem");
    item.append(el("span", "SUSPECTED FLOOD ", "badge"),
      el("span", `${f.tickets} requests from one client (${f.urgent} marked urgent) · ${f.channels.join(", ")} · since ${f.first_at.slice(0, 16).replace("T", " ")}`));
    list.append(item);
  }
  for (const t of data.tickets) {
    const item = el("button", undefined, "ticket" + (t.urgent ? " urgent" : ""));
    item.setAttribute("role", "listitem");
    item.dataset.id = t.id;
    item.append(el("span", t.overdue ? "URGENT, OVERDUE " : t.urgent ? "URGENT " : "", "badge"),
      el("span", `${t.reason.replaceAll("_", " ")} · ${t.channel} · ${languageName(t.language)} · ${t.status}`),
      el("span", t.claimed_by ? ` by ${t.claimed_by}` : "", "claimer"));
    if (t.notification && t.notification.status === "failed") {
      item.append(el("div", `notification failed: ${t.notification.error}`));
    }
    item.addEventListener("click", () => openTicket(t.id));
    list.append(item);
  }
}
async function openTicket(id) {
  const t = await api(`/api/tickets/${encodeURIComponent(id)}`);
  const detail = $("detail");
  detail.replaceChildren();
  detail.append(el("h2", `${t.urgent ? "URGENT — " : ""}${t.reason.replaceAll("_", " ")}`));
  detail.append(el("p", `Channel: ${t.channel} · language: ${languageName(t.language)} · status: ${t.status} · opened ${t.created_at}`));
  const holder = t.claimed_by
    ? `Claimed by ${t.claimed_by === me ? "you" : t.claimed_by}` +
      (t.taken_over_from ? ` (taken over from ${t.taken_over_from})` : "")
    : "Not claimed yet";
  const owner = el("p", holder, "claimer"); owner.id = "claimer";
  detail.append(owner);
  if (t.contact) detail.append(el("p", `Contact: ${Object.values(t.contact).join(" · ")}`));
  for (const m of t.transcript) {
    // A staff reply that did not reach the patient says so: never shown as sent.
    const failed = m.from === "staff" && m.delivered === false;
    const why = failed && m.why_text ? ` (NOT DELIVERED: ${m.why_text})` : " (NOT DELIVERED)";
    detail.append(el("div", `${m.from}${failed ? why : ""}: ${m.text}`,
      `msg ${m.from}${failed ? " not-delivered" : ""}`));
  }
  if (t.history && t.history.length) {
    // Who did what, from the audit trail (no message text in it).
    const history = el("ol"); history.className = "history"; history.setAttribute("aria-label", "Ticket history");
    for (const h of t.history) {
      history.append(el("li", `${h.at.slice(0, 16).replace("T", " ")} ${h.who}: ${h.action.replace(/_/g, " ")}${h.detail ? ` (${h.detail})` : ""}`));
    }
    detail.append(el("h3", "History"), history);
  }
  // Only the claimer replies or resolves; someone else's ticket is taken over only
  // on purpose (the server records and logs it).
  const other = t.claimed_by && t.claimed_by !== me ? t.claimed_by : null;
  const claim = el("button", other ? `Take over from ${other}` : "Claim"); claim.id = "claim";
  claim.hidden = t.claimed_by === me;
  claim.addEventListener("click", async () => {
    if (other && !confirm(`${other} is handling this ticket. Take it over?`)) return;
    const result = await api(`/api/tickets/${id}/claim`, other ? { take_over: true } : {});
    if (result.error) alert(result.error);
    openTicket(id); refresh();
  });
  const box = el("textarea"); box.setAttribute("aria-label", "Reply to the patient"); box.id = "reply-text";
  const send = el("button", "Send reply"); send.id = "send-reply";
  send.addEventListener("click", async () => {
    const result = await api(`/api/tickets/${id}/reply`, { text: box.value });
    if (result.error) alert(`Not delivered: ${result.error}`); else box.value = "";
    openTicket(id); refresh();
  });
  const resolve = el("button", "Resolve and hand back to the assistant");
  resolve.addEventListener("click", async () => {
    const result = await api(`/api/tickets/${id}/resolve`, {});
    if (result.error) { alert(result.error); return; }
    detail.replaceChildren(); refresh();
  });
  detail.append(claim, box, send, resolve);
}
$("login").addEventListener("submit", async (event) => {
  event.preventDefault();
  const reply = await post("/api/login", { username: $("username").value, password: $("password").value });
  if (reply.ok) { $("login-error").textContent = ""; showInbox(); }
  else if (reply.status === 429) {
    $("login-error").textContent =
      `Too many failed logins: try again in ${reply.headers.get("Retry-After")} seconds.`;
  } else $("login-error").textContent = "Wrong user name or password.";
});
$("logout").addEventListener("click", async () => { await api("/api/logout", {}); showLogin(); });
showInbox().catch(showLogin);
setInterval(() => { if (!$("inbox").hidden) refresh().catch(() => {}); }, 15000);
