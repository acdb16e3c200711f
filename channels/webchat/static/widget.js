/*
 * Q&Aid web chat widget. Embed with one tag:
 *   <script src="https://<server>/webhooks/webchat/static/widget.js" defer></script>
 * Optional attributes: data-title="Q&Aid", data-mode="page" (full page instead of a launcher button).
 *
 * Messages and uploads go as multipart/form-data to <server>/webhooks/webchat/webhook; the answer is the
 * list of bot messages (text, image, buttons). The sender id and the conversation are kept in localStorage,
 * so a reload continues the same conversation.
 */
(function () {
  "use strict";

  var script = document.currentScript;
  if (!script || !script.src) {
    return;
  }
  var MAX_BYTES = 20 * 1024 * 1024;
  var MAX_HISTORY = 200;
  var THUMB_SIDE = 240;
  var REQUEST_TIMEOUT_MS = 180000;

  var scriptUrl = new URL(script.src, window.location.href);
  var channelBase = new URL("../", scriptUrl);
  var webhookUrl = new URL("webhook", channelBase).toString();
  var serverOrigin = scriptUrl.origin;
  var mode = script.getAttribute("data-mode") === "page" ? "page" : "widget";
  var title = script.getAttribute("data-title") || "Q&Aid";
  var keyPrefix = "qaid-webchat:" + channelBase.href + ":";

  // ---- storage (falls back to memory when localStorage is blocked) ---------------------------------
  var memory = {};
  function load(key, fallback) {
    try {
      var raw = window.localStorage.getItem(keyPrefix + key);
      return raw === null ? fallback : JSON.parse(raw);
    } catch (e) {
      return key in memory ? memory[key] : fallback;
    }
  }
  function save(key, value) {
    memory[key] = value;
    try {
      window.localStorage.setItem(keyPrefix + key, JSON.stringify(value));
    } catch (e) {
      /* storage full or blocked: the conversation still works for this page view */
    }
  }
  function newSenderId() {
    if (window.crypto && window.crypto.randomUUID) {
      return window.crypto.randomUUID();
    }
    return "web-" + Date.now().toString(36) + "-" + Math.random().toString(36).slice(2, 12);
  }
  var SESSION_HEADER = "X-Qaid-Session";
  var senderId = load("sender", null) || newSenderId();
  save("sender", senderId);
  var sessionToken = load("session", null); // issued by the server with the conversation's first answer
  var history = load("history", []);

  // ---- DOM helpers -----------------------------------------------------------------------------------
  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (name) {
      var value = attrs[name];
      if (name === "text") {
        node.textContent = value;
      } else if (name.indexOf("on") === 0) {
        node.addEventListener(name.slice(2), value);
      } else if (value === true) {
        node.setAttribute(name, "");
      } else if (value !== false && value !== null && value !== undefined) {
        node.setAttribute(name, String(value));
      }
    });
    (children || []).forEach(function (child) {
      if (child) {
        node.appendChild(child);
      }
    });
    return node;
  }
  function icon(path) {
    var svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("aria-hidden", "true");
    var p = document.createElementNS("http://www.w3.org/2000/svg", "path");
    p.setAttribute("d", path);
    svg.appendChild(p);
    return svg;
  }
  var CHAT_ICON = "M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H8l-4 4V6a2 2 0 0 1 2-2z";
  var CLIP_ICON = "M16.5 6.5v10a4.5 4.5 0 0 1-9 0V5a3 3 0 0 1 6 0v10.5a1.5 1.5 0 0 1-3 0V6.5H9v9a3 3 0 0 0 6 0V5" +
    "a4.5 4.5 0 0 0-9 0v11.5a6 6 0 0 0 12 0v-10z";

  function safeUrl(url) {
    try {
      var resolved = new URL(url, serverOrigin);
      return resolved.protocol === "http:" || resolved.protocol === "https:" || resolved.protocol === "data:"
        ? resolved.toString() : null;
    } catch (e) {
      return null;
    }
  }
  function isDicomName(name) {
    return /\.(dcm|dicom)$/i.test(name || "");
  }

  // ---- build the UI in a shadow root ------------------------------------------------------------------
  var host = el("div", { "class": "qaid-webchat-host" });
  var root = host.attachShadow ? host.attachShadow({ mode: "open" }) : host;
  root.appendChild(el("link", { rel: "stylesheet", href: new URL("widget.css", scriptUrl).toString() }));

  var log = el("div", { "class": "log", role: "log", "aria-live": "polite", "aria-label": "Conversation",
    tabindex: "0" });
  var empty = el("p", { "class": "empty", text: "Ask a question about a medical image: attach a photo, " +
    "a scan or a DICOM file with the paper clip, drag it here or paste it." });
  var typing = el("div", { "class": "typing", hidden: true, text: title + " is answering…" });
  var dropzone = el("div", { "class": "dropzone", hidden: true, text: "Drop the image to attach it" });
  var fileInput = el("input", { type: "file", "class": "file", accept: "image/*,.dcm,application/dicom",
    tabindex: "-1", "aria-hidden": "true", hidden: true });
  var previewImg = el("img", { alt: "" });
  var fileName = el("span", { "class": "name" });
  var progressBar = el("div", { "class": "bar" });
  var progress = el("div", { "class": "progress", role: "progressbar", "aria-label": "Upload progress",
    "aria-valuemin": "0", "aria-valuemax": "100", "aria-valuenow": "0", hidden: true }, [progressBar]);
  var removeButton = el("button", { type: "button", "class": "remove", "aria-label": "Remove the attached image",
    text: "×" });
  var attachment = el("div", { "class": "attachment", hidden: true }, [
    previewImg, el("div", { "class": "meta" }, [fileName, progress]), removeButton,
  ]);
  var errorBox = el("p", { "class": "error", role: "alert" });
  var attachButton = el("button", { type: "button", "class": "attach", "aria-label": "Attach an image",
    title: "Attach an image" }, [icon(CLIP_ICON)]);
  var input = el("textarea", { "class": "input", rows: "1", "aria-label": "Your message",
    placeholder: "Type a question…", enterkeyhint: "send" });
  var sendButton = el("button", { type: "submit", "class": "send", text: "Send" });
  var form = el("form", { "class": "composer", "aria-label": "Send a message" }, [
    attachment, errorBox, el("div", { "class": "row" }, [attachButton, fileInput, input, sendButton]),
  ]);
  var resetButton = el("button", { type: "button", "class": "reset", text: "New chat",
    "aria-label": "Start a new conversation" });
  var closeButton = el("button", { type: "button", "class": "close", "aria-label": "Close the chat", text: "×" });
  var heading = el("h2", { id: "qaid-title", text: title });
  var panel = el("section", { "class": "panel", "aria-labelledby": "qaid-title", hidden: mode === "widget" }, [
    el("header", {}, [heading, resetButton, closeButton]), log, typing, form, dropzone,
  ]);
  var launcher = mode === "widget" ? el("button", { type: "button", "class": "launcher",
    "aria-label": "Open the " + title + " chat", "aria-expanded": "false" }, [icon(CHAT_ICON)]) : null;
  var container = el("div", { "class": "qaid", "data-mode": mode }, [launcher, panel]);
  root.appendChild(container);

  // ---- rendering ----------------------------------------------------------------------------------------
  function scrollToEnd() {
    log.scrollTop = log.scrollHeight;
  }
  function render(entry) {
    if (empty.parentNode) {
      empty.parentNode.removeChild(empty);
    }
    var bubble = el("div", { "class": "msg " + entry.role });
    if (entry.role === "bot") {
      bubble.appendChild(el("span", { "class": "sr-only", text: title + " says: " }));
    }
    if (entry.text) {
      bubble.appendChild(el("p", { text: entry.text }));
    }
    var imageUrl = entry.image ? safeUrl(entry.image) : null;
    if (imageUrl) {
      var alt = entry.role === "bot" ? "Image from " + title : "Your image " + (entry.file || "");
      var img = el("img", { src: imageUrl, alt: alt, loading: "lazy" });
      img.addEventListener("load", scrollToEnd);
      bubble.appendChild(entry.role === "bot"
        ? el("a", { href: imageUrl, target: "_blank", rel: "noopener", "aria-label": alt + " (opens full size)" },
          [img])
        : img);
    }
    if (entry.file && !imageUrl) {
      bubble.appendChild(el("p", { "class": "file", text: "Attached: " + entry.file }));
    }
    if (entry.buttons && entry.buttons.length) {
      var group = el("div", { "class": "buttons", role: "group", "aria-label": "Answer options" });
      entry.buttons.forEach(function (button, index) {
        var chosen = entry.chosen === index;
        group.appendChild(el("button", {
          type: "button", "class": chosen ? "chosen" : null, disabled: entry.chosen !== undefined,
          "aria-pressed": chosen ? "true" : null, text: button.title || button.payload,
          onclick: function () { choose(entry, index); },
        }));
      });
      bubble.appendChild(group);
    }
    entry.node = bubble;
    log.appendChild(bubble);
    scrollToEnd();
    return bubble;
  }
  function persist() {
    var stored = history.slice(-MAX_HISTORY).map(function (entry) {
      return { role: entry.role, text: entry.text, image: entry.image, file: entry.file,
        buttons: entry.buttons, chosen: entry.chosen };
    });
    save("history", stored);
  }
  function add(entry) {
    history.push(entry);
    render(entry);
    persist();
    return entry;
  }
  function rerender(entry) {
    var old = entry.node;
    var fresh = render(entry);
    if (old && old.parentNode) {
      old.parentNode.replaceChild(fresh, old);
    }
  }

  // ---- attachments --------------------------------------------------------------------------------------
  var attached = null;
  var previewUrl = null;
  function showError(message) {
    errorBox.textContent = message || "";
  }
  function attach(file) {
    showError("");
    if (!file) {
      return;
    }
    if (file.size > MAX_BYTES) {
      showError("This file is larger than 20 MB; please choose a smaller image.");
      return;
    }
    var looksLikeImage = (file.type || "").indexOf("image/") === 0 || isDicomName(file.name) ||
      file.type === "application/dicom" || !file.type;
    if (!looksLikeImage) {
      showError("Please attach an image (JPEG, PNG) or a DICOM file.");
      return;
    }
    clearAttachment();
    attached = file;
    fileName.textContent = (file.name || "pasted image") + " · " + Math.max(1, Math.round(file.size / 1024)) + " KB";
    if ((file.type || "").indexOf("image/") === 0) {
      previewUrl = URL.createObjectURL(file);
      previewImg.src = previewUrl;
      previewImg.alt = "Preview of the attached image";
      previewImg.hidden = false;
    } else {
      previewImg.hidden = true;
    }
    attachment.hidden = false;
    input.focus();
  }
  function clearAttachment() {
    attached = null;
    if (previewUrl) {
      URL.revokeObjectURL(previewUrl);
      previewUrl = null;
    }
    previewImg.removeAttribute("src");
    attachment.hidden = true;
    progress.hidden = true;
    fileInput.value = "";
  }
  function thumbnail(file) {
    // A small JPEG data URL of the user's own image, so that the conversation survives a reload.
    return new Promise(function (resolve) {
      if ((file.type || "").indexOf("image/") !== 0 || !window.createImageBitmap) {
        resolve(null);
        return;
      }
      window.createImageBitmap(file).then(function (bitmap) {
        var scale = Math.min(1, THUMB_SIDE / Math.max(bitmap.width, bitmap.height));
        var canvas = document.createElement("canvas");
        canvas.width = Math.max(1, Math.round(bitmap.width * scale));
        canvas.height = Math.max(1, Math.round(bitmap.height * scale));
        canvas.getContext("2d").drawImage(bitmap, 0, 0, canvas.width, canvas.height);
        resolve(canvas.toDataURL("image/jpeg", 0.8));
      }, function () { resolve(null); });
    });
  }

  // ---- sending ----------------------------------------------------------------------------------------------
  var busy = false;
  function setBusy(value) {
    busy = value;
    sendButton.disabled = value;
    attachButton.disabled = value;
    typing.hidden = !value;
  }
  function setProgress(percent) {
    progress.setAttribute("aria-valuenow", String(percent));
    progressBar.style.width = percent + "%";
  }
  function post(message, file, onProgress) {
    return new Promise(function (resolve, reject) {
      var data = new FormData();
      data.append("sender", senderId);
      if (message) {
        data.append("message", message);
      }
      if (file) {
        data.append("image", file, file.name || "image");
      }
      var xhr = new XMLHttpRequest();
      xhr.open("POST", webhookUrl);
      if (sessionToken) {
        xhr.setRequestHeader(SESSION_HEADER, sessionToken);
      }
      xhr.timeout = REQUEST_TIMEOUT_MS;
      xhr.responseType = "json";
      if (file && xhr.upload) {
        xhr.upload.addEventListener("progress", function (event) {
          if (event.lengthComputable) {
            onProgress(Math.round((event.loaded / event.total) * 100));
          }
        });
      }
      xhr.onload = function () {
        if (xhr.status === 200 && Array.isArray(xhr.response)) {
          var issued = xhr.getResponseHeader(SESSION_HEADER);
          if (issued && issued !== sessionToken) {
            sessionToken = issued;
            save("session", sessionToken);
          }
          resolve(xhr.response);
        } else {
          reject(new Error(xhr.status === 413 ? "This file is too large to upload." :
            "The assistant could not answer (error " + xhr.status + "). Please try again."));
        }
      };
      xhr.onerror = function () { reject(new Error("Could not reach the assistant. Check your connection and try again.")); };
      xhr.ontimeout = function () { reject(new Error("The assistant took too long to answer. Please try again.")); };
      xhr.send(data);
    });
  }
  // The bot's "delete my data" answer carries this event: the browser forgets the conversation too
  // (its history, sender id and session token), keeping only that answer on screen.
  var ERASED_EVENT = "conversation_erased";
  function showReplies(messages) {
    if (messages.some(function (m) { return m.custom && m.custom.qaid_event === ERASED_EVENT; })) {
      startNewConversation();
    }
    messages.forEach(function (message) {
      if (message.text || message.image || (message.buttons && message.buttons.length)) {
        add({ role: "bot", text: message.text, image: message.image, buttons: message.buttons });
      } else if (message.custom && typeof message.custom.text === "string") {
        add({ role: "bot", text: message.custom.text });
      }
    });
  }
  function send(message, shownText) {
    if (busy) {
      return Promise.resolve();
    }
    var file = attached;
    message = (message || "").trim();
    if (!message && !file) {
      return Promise.resolve();
    }
    showError("");
    setBusy(true);
    var entry = { role: "user", text: shownText || message, file: file ? (file.name || "pasted image") : undefined };
    var ready = file ? thumbnail(file) : Promise.resolve(null);
    return ready.then(function (thumb) {
      entry.image = thumb || undefined;
      add(entry);
      if (file) {
        progress.hidden = false;
        setProgress(0);
      }
      return post(message, file, setProgress);
    }).then(function (messages) {
      if (file) {
        clearAttachment();
      }
      if (!shownText) {
        input.value = "";
        autosize();
      }
      showReplies(messages);
    }, function (error) {
      entry.node.classList.add("failed");
      progress.hidden = true;
      showError(error.message);
    }).then(function () {
      setBusy(false);
      if (mode === "page" || !panel.hidden) {
        input.focus();
      }
    });
  }
  function choose(entry, index) {
    if (busy || entry.chosen !== undefined) {
      return;
    }
    var button = entry.buttons[index];
    entry.chosen = index;
    rerender(entry);
    persist();
    send(button.payload || button.title, button.title || button.payload);
  }

  // ---- events -----------------------------------------------------------------------------------------------
  function autosize() {
    input.style.height = "auto";
    input.style.height = Math.min(input.scrollHeight + 2, 140) + "px";
  }
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    send(input.value);
  });
  input.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      send(input.value);
    }
  });
  input.addEventListener("input", autosize);
  input.addEventListener("paste", function (event) {
    var items = (event.clipboardData && event.clipboardData.files) || [];
    if (items.length) {
      event.preventDefault();
      attach(items[0]);
    }
  });
  attachButton.addEventListener("click", function () { fileInput.click(); });
  fileInput.addEventListener("change", function () { attach(fileInput.files && fileInput.files[0]); });
  removeButton.addEventListener("click", function () {
    clearAttachment();
    input.focus();
  });

  var dragDepth = 0;
  function hasFiles(event) {
    return event.dataTransfer && Array.prototype.indexOf.call(event.dataTransfer.types || [], "Files") !== -1;
  }
  panel.addEventListener("dragenter", function (event) {
    if (hasFiles(event)) {
      event.preventDefault();
      dragDepth += 1;
      dropzone.hidden = false;
    }
  });
  panel.addEventListener("dragover", function (event) {
    if (hasFiles(event)) {
      event.preventDefault();
      event.dataTransfer.dropEffect = "copy";
    }
  });
  panel.addEventListener("dragleave", function () {
    dragDepth = Math.max(0, dragDepth - 1);
    if (!dragDepth) {
      dropzone.hidden = true;
    }
  });
  panel.addEventListener("drop", function (event) {
    if (hasFiles(event)) {
      event.preventDefault();
      dragDepth = 0;
      dropzone.hidden = true;
      attach(event.dataTransfer.files[0]);
    }
  });

  function startNewConversation() {
    senderId = newSenderId();
    save("sender", senderId);
    sessionToken = null;
    save("session", null);
    history = [];
    persist();
    while (log.firstChild) {
      log.removeChild(log.firstChild);
    }
    log.appendChild(empty);
    clearAttachment();
    showError("");
  }
  resetButton.addEventListener("click", function () {
    startNewConversation();
    input.focus();
  });

  function setOpen(open) {
    if (!launcher) {
      return;
    }
    panel.hidden = !open;
    launcher.setAttribute("aria-expanded", open ? "true" : "false");
    save("open", open);
    if (open) {
      input.focus();
      scrollToEnd();
    } else {
      launcher.focus();
    }
  }
  if (launcher) {
    launcher.addEventListener("click", function () { setOpen(panel.hidden); });
    closeButton.addEventListener("click", function () { setOpen(false); });
    panel.addEventListener("keydown", function (event) {
      if (event.key === "Escape") {
        setOpen(false);
      }
    });
  }

  // ---- start --------------------------------------------------------------------------------------------------
  log.appendChild(empty);
  history.forEach(render);
  function mount() {
    document.body.appendChild(host);
    if (mode === "page") {
      input.focus();
    } else if (load("open", false)) {
      setOpen(true);
    }
  }
  if (document.body) {
    mount();
  } else {
    document.addEventListener("DOMContentLoaded", mount);
  }
  window.QAidWebChat = { senderId: function () { return senderId; }, open: function () { setOpen(true); } };
})();
