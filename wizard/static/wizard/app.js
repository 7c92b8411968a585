/* The planner's small bit of JavaScript: copy buttons, adding list rows without a
   round trip, keeping a form submit from racing an autosave, an honest autosave status and
   applying the live preview's changed lines. Everything here is an enhancement: each page also
   works without JavaScript (the preview, which needs it, says so). */
(function () {
  "use strict";

  function copyBySelection(text) {
    // Plain HTTP on a closed network has no Clipboard API: copy through a selection instead.
    return new Promise(function (resolve, reject) {
      var area = document.createElement("textarea");
      area.value = text;
      area.setAttribute("readonly", "");
      area.className = "visually-hidden";
      document.body.appendChild(area);
      area.select();
      var ok = false;
      try { ok = document.execCommand("copy"); } catch (e) { ok = false; }
      document.body.removeChild(area);
      if (ok) { resolve(); } else { reject(new Error("copy failed")); }
    });
  }

  function copyText(text) {
    if (navigator.clipboard && window.isSecureContext) {
      return navigator.clipboard.writeText(text).catch(function () { return copyBySelection(text); });
    }
    return copyBySelection(text);
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-copy-target]");
    if (!button) { return; }
    var source = document.getElementById(button.getAttribute("data-copy-target"));
    if (!source) { return; }
    var label = button.textContent;
    // A textarea holds the text itself; a highlighted file is a <pre> whose text is the file's.
    var text = source.tagName === "TEXTAREA" ? source.value : source.textContent;
    copyText(text).then(function () {
      button.textContent = "Copied";
    }, function () {
      button.textContent = "Copy failed: select the text";
    });
    window.setTimeout(function () { button.textContent = label; }, 2000);
  });

  // "Add a pool" and friends: clone the formset's empty row instead of a full page post.
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-add-row]");
    if (!button) { return; }
    var section = button.getAttribute("data-add-row");
    var template = document.getElementById("empty-" + section);
    var total = document.getElementById("id_" + section + "-TOTAL_FORMS");
    var list = document.querySelector('[data-rows="' + section + '"]');
    if (!template || !total || !list) { return; }  // no JavaScript path: the button posts the form
    event.preventDefault();
    var index = parseInt(total.value, 10) || 0;
    var holder = document.createElement("div");
    holder.innerHTML = template.innerHTML.split("__prefix__").join(String(index))
      .split("__number__").join(String(index + 1));
    var row = holder.firstElementChild;
    list.appendChild(row);
    total.value = String(index + 1);
    var first = row.querySelector("input:not([type=hidden]), select, textarea");
    if (first) { first.focus(); }
  });

  // Signing in again (in another tab, after the session ended) gives a new CSRF token: requests and
  // forms of a page loaded before send the current one from the cookie, so that the autosave's
  // retries and the Save button work again without reloading the page (which would lose the typing).
  function currentCsrfToken() {
    var match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    return match ? decodeURIComponent(match[1]) : "";
  }
  document.addEventListener("htmx:configRequest", function (event) {
    var token = currentCsrfToken();
    if (!token) { return; }
    event.detail.headers["X-CSRFToken"] = token;
    // The form's own field wins over the header on the server: it must be the current one too.
    var data = event.detail.formData;
    if (data && data.has && data.has("csrfmiddlewaretoken")) { data.set("csrfmiddlewaretoken", token); }
  });
  document.addEventListener("submit", function (event) {
    var field = event.target.querySelector ? event.target.querySelector("input[name=csrfmiddlewaretoken]") : null;
    var token = currentCsrfToken();
    if (field && token) { field.value = token; }
  }, true);

  // A submit while an autosave is on its way waits for it, so the submit carries the
  // draft version the autosave just produced instead of being refused as stale.
  var saving = 0;
  var waiting = null;
  document.addEventListener("htmx:beforeRequest", function (event) {
    if (event.target.id === "autosave") { saving += 1; }
  });
  document.addEventListener("htmx:afterRequest", function (event) {
    if (event.target.id !== "autosave") { return; }
    saving = Math.max(0, saving - 1);
    if (saving === 0 && waiting) {
      var pending = waiting;
      waiting = null;
      window.setTimeout(function () { pending.form.requestSubmit(pending.submitter); }, 0);
    }
  });
  document.addEventListener("submit", function (event) {
    if (event.target.id !== "step-form" || saving === 0) { return; }
    event.preventDefault();
    waiting = { form: event.target, submitter: event.submitter || null };
  });

  // The autosave status never shows a stale "Saved": it says "Saving" while a save is on its
  // way, the server's own words when it refuses (409, 400), and the failure when the request
  // fails (no connection, 403, 500, ...), retrying on its own until a save goes through.
  var RETRY_FIRST_MS = 2000;
  var RETRY_MAX_MS = 30000;
  var retryDelay = RETRY_FIRST_MS;
  var retryTimer = null;

  function autosaveStatus() { return document.getElementById("autosave-status"); }

  function showStatus(text, kind) {
    var status = autosaveStatus();
    if (!status) { return; }
    status.textContent = "";
    var span = document.createElement("span");
    span.className = kind === "failed" ? "text-danger fw-semibold" : "text-body-secondary";
    span.setAttribute("data-autosave", kind);
    span.textContent = text;
    status.appendChild(span);
  }

  function failureReason(status) {
    if (!status) { return "the server cannot be reached"; }
    if (status === 401) { return "you are signed out (the session ended): sign in again in another tab"; }
    if (status === 403) { return "the server refused it (403: signed out, or no edit access any more)"; }
    if (status === 413) { return "the page is too large for the server (413)"; }
    if (status >= 500) { return "the server failed (" + status + ")"; }
    return "the server answered " + status;
  }

  function scheduleRetry(status) {
    var autosave = document.getElementById("autosave");
    if (!autosave) { return; }
    var seconds = Math.round(retryDelay / 1000);
    showStatus("Not saved: " + failureReason(status) + ". Trying again in " + seconds +
               " s; what you typed stays in the form.", "failed");
    window.clearTimeout(retryTimer);
    retryTimer = window.setTimeout(function () { htmx.trigger(autosave, "autosave-retry"); }, retryDelay);
    retryDelay = Math.min(retryDelay * 2, RETRY_MAX_MS);
  }

  document.addEventListener("htmx:beforeRequest", function (event) {
    if (event.target.id !== "autosave") { return; }
    window.clearTimeout(retryTimer);
    showStatus("Saving\u2026", "saving");
  });
  document.addEventListener("htmx:beforeSwap", function (event) {
    if (event.target.id !== "autosave-status") { return; }
    var code = event.detail.xhr ? event.detail.xhr.status : 0;
    if (code === 409 || code === 400) {
      // A refusal with its reason: show it (no retry: it needs the person's choice).
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });
  var signedOut = false;
  document.addEventListener("htmx:afterRequest", function (event) {
    if (event.target.id !== "autosave") { return; }
    var code = event.detail.xhr ? event.detail.xhr.status : 0;
    var wasSignedOut = signedOut;
    signedOut = code === 401;
    if (code >= 200 && code < 300) {
      retryDelay = RETRY_FIRST_MS;
      // Signed in again: the preview, held while signed out, catches up with what was typed.
      if (wasSignedOut) { requestWholeFile(); }
    } else if (code !== 409 && code !== 400) {
      scheduleRetry(code);
    }
  });
  // Text typed but not saved yet survives the session ending (a reload then goes through the sign-in
  // page and back to the stored draft): each text field's typing is kept in this tab's sessionStorage,
  // by the form's address (plan and step) and the field's name, with the stored value it was typed over,
  // until a save stores it. After signing in again, typing kept for a field that still holds that stored
  // value is put back and autosaved; a field someone else changed meanwhile is left as stored (two
  // people never silently overwrite each other) and the status says what had been typed there.
  // The typing is kept for the person who typed it (the username in the key): in a tab where someone
  // else signs in next, it is dropped at once instead of being put back and saved in their name.
  // Signing out on purpose drops all of it.
  var TYPED_PREFIX = "wizard-typed:";
  var typedUser = document.body.getAttribute("data-user");  // null on the sign-in page: keep everything
  if (typedUser !== null) { typedUser = encodeURIComponent(typedUser); }  // no ":" inside the key's parts
  var savedValues = {};   // field name -> the value last stored (as the page showed it, or as autosaved)
  var sentValues = null;  // what the autosave on its way sends

  function typedKeys() {
    var keys = [];
    try {
      for (var i = 0; i < window.sessionStorage.length; i++) {
        var key = window.sessionStorage.key(i);
        if (key && key.indexOf(TYPED_PREFIX) === 0) { keys.push(key); }
      }
    } catch (e) { /* storage turned off: nothing was kept */ }
    return keys;
  }
  function dropTypedOf(keep) {
    typedKeys().forEach(function (key) { if (!keep(key)) { dropTyped(key); } });
  }
  function typedKey(form, name) {
    // The query names the page of the step's lists: row fields are named by their place on the page.
    // getAttribute, not form.action: a field named "action" would shadow the property.
    var action = new URL(form.getAttribute("action") || "", window.location.href);
    return TYPED_PREFIX + typedUser + ":" + action.pathname + action.search + ":" + name;
  }
  if (typedUser !== null) {
    dropTypedOf(function (key) { return key.indexOf(TYPED_PREFIX + typedUser + ":") === 0; });
  }
  document.addEventListener("submit", function (event) {
    if (event.target.id === "sign-out-form") { dropTypedOf(function () { return false; }); }
  });
  function keepsTyping(field) {
    return typedUser !== null && !!field.name && field.form && field.form.id === "step-form" && (field.tagName === "TEXTAREA" ||
      (field.tagName === "INPUT" && /^(text|search|url|email|tel|number)$/.test(field.type)));
  }
  function readTyped(key) {
    try { return JSON.parse(window.sessionStorage.getItem(key) || "null"); } catch (e) { return null; }
  }
  function writeTyped(key, entry) {
    // Storage full or turned off: the form still holds the typing, as it did before.
    try { window.sessionStorage.setItem(key, JSON.stringify(entry)); } catch (e) { /* see above */ }
  }
  function dropTyped(key) {
    try { window.sessionStorage.removeItem(key); } catch (e) { /* see above */ }
  }
  function stepTextFields() {
    var form = document.getElementById("step-form");
    return form ? Array.prototype.filter.call(form.elements, keepsTyping) : [];
  }

  document.addEventListener("input", function (event) {
    var field = event.target;
    if (!keepsTyping(field)) { return; }
    var key = typedKey(field.form, field.name);
    if (field.value === savedValues[field.name]) { dropTyped(key); return; }
    writeTyped(key, { value: field.value, over: field.name in savedValues ? savedValues[field.name] : field.defaultValue });
  });
  document.addEventListener("htmx:beforeRequest", function (event) {
    if (event.target.id !== "autosave") { return; }
    sentValues = {};
    stepTextFields().forEach(function (field) { sentValues[field.name] = field.value; });
  });
  document.addEventListener("htmx:afterRequest", function (event) {
    if (event.target.id !== "autosave") { return; }
    var code = event.detail.xhr ? event.detail.xhr.status : 0;
    var sent = sentValues;
    sentValues = null;
    if (!sent || code < 200 || code >= 300) { return; }
    stepTextFields().forEach(function (field) {
      if (!(field.name in sent)) { return; }
      savedValues[field.name] = sent[field.name];
      var key = typedKey(field.form, field.name);
      // Typed on while the save was on its way: still kept, now over what that save stored.
      if (field.value === sent[field.name]) { dropTyped(key); } else { writeTyped(key, { value: field.value, over: sent[field.name] }); }
    });
  });

  function restoreTyped() {
    var fields = stepTextFields();
    var restored = [];
    var changed = [];
    fields.forEach(function (field) {
      savedValues[field.name] = field.defaultValue;
      var key = typedKey(field.form, field.name);
      var kept = readTyped(key);
      if (!kept || typeof kept.value !== "string") { return; }
      dropTyped(key);
      if (kept.value === field.value) { return; }
      if (kept.over === field.defaultValue && field.value === field.defaultValue && !field.disabled) {
        field.value = kept.value;
        restored.push(field);
      } else {
        var label = field.labels && field.labels.length ? field.labels[0].textContent.trim() : field.name;
        changed.push(label + ": you had typed \u201c" + kept.value + "\u201d");
      }
    });
    if (changed.length) {
      notPutBack = "Not put back, as the stored value was changed meanwhile: " + changed.join("; ") + ".";
      showStatus(notPutBack, "failed");
    }
    if (restored.length) {
      // The change event makes the autosave store it (with the draft version this page was loaded with).
      restored[restored.length - 1].dispatchEvent(new Event("change", { bubbles: true }));
    }
  }
  // The note stays beside the status of the autosave that stores the fields put back.
  var notPutBack = "";
  document.addEventListener("htmx:afterSettle", function (event) {
    var status = autosaveStatus();
    if (!notPutBack || !status || event.target !== status) { return; }
    var note = document.createElement("span");
    note.className = "text-danger fw-semibold ms-1";
    note.textContent = notPutBack;
    status.appendChild(note);
  });
  if (document.readyState === "complete") { restoreTyped(); } else { window.addEventListener("load", restoreTyped); }

  // Boxes of the forms marked data-keep-typing (a comment, an approval's or a request's text, a risk's
  // reason, a revision's message): what is typed is kept in this tab, by the form and its action, until
  // the form reaches the server. A session that ended on the way sends the form to the sign-in page,
  // whose `next` names the action: that typing is marked not sent, and after signing in (an action's
  // address leads to its form's page) it is put back into the empty box, with a note saying so. A form
  // that reached the server drops it: a stored text shows on the page, a refused one comes back in its box.
  var BOX = ":box:";
  function boxOf(form, name) {
    var action = new URL(form.getAttribute("action") || "", window.location.href);
    var to = action.pathname + action.search;
    return { key: TYPED_PREFIX + typedUser + BOX + form.getAttribute("data-keep-typing") + ":" + to + ":" + name,
             action: to };
  }
  function keepsBox(field) {
    return typedUser !== null && !!field.name && !!field.form && field.form.hasAttribute("data-keep-typing") &&
      (field.tagName === "TEXTAREA" || (field.tagName === "INPUT" && field.type === "text"));
  }
  document.addEventListener("input", function (event) {
    var field = event.target;
    if (!keepsBox(field)) { return; }
    var box = boxOf(field.form, field.name);
    if (field.value === "") { dropTyped(box.key); return; }
    writeTyped(box.key, { value: field.value, action: box.action, sent: false });
  });
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (event.defaultPrevented || !form.hasAttribute || !form.hasAttribute("data-keep-typing")) { return; }
    Array.prototype.forEach.call(form.elements, function (field) {
      if (keepsBox(field) && field.value !== "") {
        var box = boxOf(form, field.name);
        writeTyped(box.key, { value: field.value, action: box.action, sent: true });
      }
    });
  });
  function restoreBoxes() {
    if (typedUser === null) {
      // The sign-in page: a form sent here did not reach its action.
      var next = new URLSearchParams(window.location.search).get("next");
      typedKeys().forEach(function (key) {
        var kept = key.indexOf(BOX) >= 0 ? readTyped(key) : null;
        if (next && kept && kept.sent && kept.action === next) {
          writeTyped(key, { value: kept.value, action: kept.action, sent: false, lost: true });
        }
      });
      return;
    }
    var fields = {};
    document.querySelectorAll("form[data-keep-typing]").forEach(function (form) {
      Array.prototype.forEach.call(form.elements, function (field) {
        if (keepsBox(field)) { fields[boxOf(form, field.name).key] = field; }
      });
    });
    typedKeys().forEach(function (key) {
      if (key.indexOf(TYPED_PREFIX + typedUser + BOX) !== 0) { return; }
      var kept = readTyped(key);
      if (!kept || typeof kept.value !== "string" || kept.sent) { dropTyped(key); return; }
      var field = fields[key];
      // Another page's box keeps it for when that page is shown; a box that holds text is left as it is.
      if (!field || field.value !== "" || field.disabled || field.readOnly) { return; }
      field.value = kept.value;
      var note = document.createElement("div");
      note.className = "form-text text-danger fw-semibold mb-2";
      note.setAttribute("role", "status");
      note.setAttribute("data-put-back", "");
      note.textContent = kept.lost ?
        "Put back: this was not sent, as your session had ended. Press the button once more." :
        "Put back: you had typed this here and not sent it.";
      field.insertAdjacentElement("afterend", note);
    });
  }
  if (document.readyState === "complete") { restoreBoxes(); } else { window.addEventListener("load", restoreBoxes); }

  // While signed out every preview would be refused too: none is sent until a save goes through again.
  // (Fewer requests on their way also means fewer caught by the sign-in's new CSRF token in flight.)
  document.addEventListener("htmx:beforeRequest", function (event) {
    if (signedOut && event.target.id === "preview-trigger") { event.preventDefault(); }
  });

  // Save pressed while signed out would go to the sign-in page and come back to the stored draft,
  // without what was typed: the page stays, and says to sign in again first (in another tab).
  document.addEventListener("submit", function (event) {
    if (event.target.id !== "step-form" || !signedOut || event.defaultPrevented) { return; }
    event.preventDefault();
    showStatus("Not saved: you are signed out (the session ended). Sign in again in another tab, then press " +
               "Save again; what you typed stays in the form.", "failed");
  });

  // Each autosave answer carries every field's error of the stored draft (#field-errors, by the
  // field's id): a fixed field loses its error at once, a new error shows on its field.
  function feedbackFor(id) {
    return document.querySelector('[id^="error_"][id$="_' + id + '"], #live-error-' + CSS.escape(id));
  }

  function applyFieldErrors() {
    var holder = document.getElementById("field-errors");
    var form = document.getElementById("step-form");
    if (!holder || !form) { return; }
    var errors = {};
    try { errors = JSON.parse(holder.getAttribute("data-errors") || "{}"); } catch (e) { return; }
    form.querySelectorAll(".is-invalid").forEach(function (field) {
      if (!Object.prototype.hasOwnProperty.call(errors, field.id)) {
        field.classList.remove("is-invalid");
        field.removeAttribute("aria-invalid");
      }
    });
    form.querySelectorAll('[id^="error_"], [id^="live-error-"]').forEach(function (note) {
      var target = note.id.indexOf("live-error-") === 0 ? note.id.slice(11) : note.id.replace(/^error_\d+_/, "");
      if (!Object.prototype.hasOwnProperty.call(errors, target)) { note.remove(); }
    });
    Object.keys(errors).forEach(function (id) {
      var field = document.getElementById(id);
      if (!field || !form.contains(field)) { return; }
      field.classList.add("is-invalid");
      field.setAttribute("aria-invalid", "true");
      var note = feedbackFor(id);
      if (!note) {
        note = document.createElement("div");
        note.className = "invalid-feedback";
        note.id = "live-error-" + id;
        field.insertAdjacentElement("afterend", note);
      }
      note.textContent = errors[id];
    });
  }

  document.addEventListener("htmx:afterSettle", function (event) {
    if (event.target.id === "autosave-status") { applyFieldErrors(); }
  });

  // The live preview sends only the lines that changed in the file shown (#preview-patch):
  // each edit replaces `data-remove` lines from line `data-at` (0-based) by the lines it holds.
  // They apply to the text whose SHA-256 is `data-base`; when the page shows another text
  // (an answer overtaken by a newer one), it asks for the whole file instead.
  function requestWholeFile() {
    var base = document.querySelector("#preview-state [name=preview_base]");
    if (base) { base.value = ""; }
    var trigger = document.getElementById("preview-trigger");
    if (trigger && window.htmx) { window.htmx.trigger(trigger, "preview-refresh"); }
  }

  // A highlighted file comes as one line of HTML per text line (changed ones wrapped in .hll);
  // to replace single lines, each line becomes an element of its own, once.
  function splitLines(code) {
    if (code.getAttribute("data-lines") === "split") { return; }
    Array.prototype.forEach.call(code.querySelectorAll(":scope > .hll"), function (mark) {
      while (mark.firstChild) { code.insertBefore(mark.firstChild, mark); }
      code.removeChild(mark);
    });
    var parts = code.innerHTML.split("\n");
    if (parts[parts.length - 1] === "") { parts.pop(); }
    code.innerHTML = parts.map(function (line) { return "<span>" + line + "\n</span>"; }).join("");
    code.setAttribute("data-lines", "split");
  }

  function applyPreviewPatch() {
    var patch = document.getElementById("preview-patch");
    if (!patch || !patch.hasAttribute("data-base")) { return; }
    var base = patch.getAttribute("data-base");
    var digest = patch.getAttribute("data-digest");
    var edits = Array.prototype.slice.call(patch.children);
    patch.removeAttribute("data-base");
    var card = document.querySelector("#preview-file .file-card");
    var code = card ? card.querySelector(".ps-code code") : null;
    if (!code || card.getAttribute("data-digest") !== base) {
      patch.textContent = "";
      requestWholeFile();
      return;
    }
    splitLines(code);
    Array.prototype.forEach.call(code.querySelectorAll(".hll"), function (line) { line.className = ""; });
    edits.reverse().forEach(function (edit) {
      var at = parseInt(edit.getAttribute("data-at"), 10);
      var remove = parseInt(edit.getAttribute("data-remove"), 10);
      for (var i = 0; i < remove && code.children[at]; i += 1) { code.removeChild(code.children[at]); }
      var before = code.children[at] || null;
      while (edit.firstChild) { code.insertBefore(edit.firstChild, before); }
    });
    patch.textContent = "";
    card.setAttribute("data-digest", digest);
    // Bring the first changed line into view inside the file's own scroll area, not the page.
    var first = code.querySelector(".hll");
    var scroller = card.querySelector(".code-scroll");
    if (first && scroller) {
      var top = first.offsetTop;   // the scroll area is positioned: offsets are inside it
      if (top < scroller.scrollTop || top > scroller.scrollTop + scroller.clientHeight - first.offsetHeight) {
        scroller.scrollTop = Math.max(0, top - scroller.clientHeight / 3);
      }
    }
  }
  document.addEventListener("htmx:afterSettle", applyPreviewPatch);

  // A preview tab chosen: the state the next preview sends names that file at once (and asks for it
  // whole), so that a preview an edit scheduled before the click (half a second after the field's
  // change, which the click itself causes) shows the chosen file, not the one shown before.
  document.addEventListener("click", function (event) {
    var tab = event.target.closest ? event.target.closest("[data-preview-tab]") : null;
    if (!tab) { return; }
    var file = document.querySelector("#preview-state [name=preview_file]");
    var base = document.querySelector("#preview-state [name=preview_base]");
    if (file) { file.value = tab.getAttribute("data-preview-tab"); }
    if (base) { base.value = ""; }
  });

  // Tabs (the review page's files, the preview's): the arrow keys, Home and End move between them.
  document.addEventListener("keydown", function (event) {
    var tab = event.target.closest ? event.target.closest("[role=tab]") : null;
    var list = tab ? tab.closest("[role=tablist]") : null;
    if (!list) { return; }
    var tabs = Array.prototype.slice.call(list.querySelectorAll("[role=tab]"));
    var index = tabs.indexOf(tab);
    var next = { ArrowRight: index + 1, ArrowLeft: index - 1, Home: 0, End: tabs.length - 1 }[event.key];
    if (next === undefined) { return; }
    event.preventDefault();
    tabs[(next + tabs.length) % tabs.length].focus();
  });
})();
