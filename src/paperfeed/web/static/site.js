// paperfeed's only script, loaded with `defer` (the CSP allows no inline code).
// Renders TeX in titles and abstracts (elements with class "math") when KaTeX is served.
"use strict";

(function () {
  // Styles that need this script (the two-line abstracts) apply under html.js only.
  document.documentElement.classList.add("js");

  function renderMath() {
    if (typeof window.renderMathInElement !== "function") {
      return;
    }
    var options = {
      delimiters: [
        { left: "$$", right: "$$", display: true },
        { left: "\\[", right: "\\]", display: true },
        { left: "\\(", right: "\\)", display: false },
        { left: "$", right: "$", display: false },
      ],
      throwOnError: false,
      // KaTeX builds its own DOM from the text; \href and \url links and raw HTML stay off.
      trust: false,
      ignoredTags: ["script", "noscript", "style", "textarea", "pre", "code", "option"],
    };
    var nodes = document.querySelectorAll(".math");
    for (var i = 0; i < nodes.length; i++) {
      window.renderMathInElement(nodes[i], options);
    }
  }

  // Some buttons are plain forms (a POST, then a redirect back to the page): upvotes, a
  // collection's Mark read, /new's Feature. With fetch, such a form is sent in the background
  // instead, so a long list keeps its scroll position, and `done(form, button)` changes the page
  // in place; any answer but the usual redirect (signed out, rate limited, expired form) falls
  // back to submitting the form.
  function sendInPlace(isOurs, done) {
    document.addEventListener("submit", function (event) {
      var form = event.target;
      if (!(form instanceof HTMLFormElement) || !isOurs(form)) {
        return;
      }
      if (typeof window.fetch !== "function") {
        return;
      }
      event.preventDefault();
      var button = form.querySelector("button");
      button.disabled = true;
      window
        // getAttribute: a form's "action" input shadows the form.action property.
        .fetch(form.getAttribute("action"), {
          method: "POST",
          body: new URLSearchParams(new FormData(form)),
          credentials: "same-origin",
          redirect: "manual",
        })
        .then(function (response) {
          button.disabled = false;
          if (response.type !== "opaqueredirect") {
            form.submit();
            return;
          }
          done(form, button);
        })
        .catch(function () {
          button.disabled = false;
          form.submit();
        });
    });
  }

  // An upvote: the count, the pressed state and the button's label follow.
  sendInPlace(
    function (form) { return form.classList.contains("upvote-form"); },
    function (form, button) {
      var action = form.querySelector('input[name="action"]');
      var count = form.querySelector(".upvote-count");
      var adding = action.value === "add";
      var total = parseInt(count.textContent, 10) + (adding ? 1 : -1);
      count.textContent = String(total);
      action.value = adding ? "remove" : "add";
      button.classList.toggle("is-upvoted", adding);
      button.setAttribute("aria-pressed", adding ? "true" : "false");
      button.setAttribute(
        "aria-label",
        (adding ? "Remove your upvote from " : "Upvote ") +
          button.getAttribute("data-title") +
          " (" + total + (total === 1 ? " upvote)" : " upvotes)")
      );
    }
  );

  // A collection owner's Mark read / Mark unread: the row and the unread count follow.
  sendInPlace(
    function (form) { return form.classList.contains("read-form"); },
    function (form, button) {
      var read = form.querySelector('input[name="read"]');
      var nowRead = read.value === "1";
      var title = button.getAttribute("data-title");
      read.value = nowRead ? "0" : "1";
      button.textContent = nowRead ? "Read \u00b7 mark unread" : "Mark read";
      button.setAttribute("aria-pressed", nowRead ? "true" : "false");
      button.setAttribute("aria-label", (nowRead ? "Mark as unread: " : "Mark as read: ") + title);
      var item = form.closest(".collection-item");
      if (item) {
        item.classList.toggle("is-read", nowRead);
      }
      var count = document.querySelector("[data-unread-count]");
      if (count) {
        var left = parseInt(count.textContent, 10) + (nowRead ? -1 : 1);
        count.textContent = String(Math.max(left, 0));
      }
    }
  );

  // On /new, a curator's Feature / Unfeature: the row follows.
  function setFeatured(form, featured) {
    var button = form.querySelector("button");
    var action = form.querySelector('input[name="action"]');
    var title = button.getAttribute("data-title");
    var item = form.closest(".triage-item");
    var note = item ? item.querySelector(".feature-note") : null;
    action.value = featured ? "remove" : "add";
    button.textContent = featured ? "Featured \u2713 \u00b7 Unfeature" : "Feature";
    button.setAttribute("aria-pressed", featured ? "true" : "false");
    button.setAttribute("aria-label", featured ? "Take " + title + " off the feed" : "Feature " + title);
    if (item) {
      item.classList.toggle("is-featured", featured);
    }
    if (note) {
      note.textContent = featured ? "Featured by you" : "Taken off the feed by you";
    }
  }

  sendInPlace(
    function (form) { return form.classList.contains("feature-form"); },
    function (form) {
      setFeatured(form, form.querySelector('input[name="action"]').value === "add");
    }
  );

  // j / k move to the next / previous paper in a list (focus on its title link), as in
  // mail readers; on /new, f features or unfeatures the paper in focus (the first one if
  // none is). Ignored while typing in a field or with a modifier key held.
  function moveBetweenCards(event) {
    if (event.key !== "j" && event.key !== "k" && event.key !== "f") {
      return;
    }
    if (event.altKey || event.ctrlKey || event.metaKey || event.isComposing) {
      return;
    }
    var target = event.target;
    if (target instanceof HTMLElement && (target.isContentEditable ||
        /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName))) {
      return;
    }
    if (event.key === "f") {
      toggleFeatureOfFocused(event);
      return;
    }
    var links = Array.prototype.slice.call(document.querySelectorAll(".card-title a"));
    if (links.length === 0) {
      return;
    }
    var at = links.indexOf(document.activeElement);
    var next = event.key === "j" ? at + 1 : (at === -1 ? 0 : at - 1);
    next = Math.max(0, Math.min(links.length - 1, next));
    event.preventDefault();
    links[next].focus();
    links[next].scrollIntoView({ block: "center" });
  }

  function toggleFeatureOfFocused(event) {
    var items = document.querySelectorAll(".triage-item");
    if (items.length === 0) {
      return;
    }
    var active = document.activeElement;
    var item = active instanceof Element ? active.closest(".triage-item") : null;
    if (!item) {
      item = items[0];
      var link = item.querySelector(".card-title a");
      if (link) {
        link.focus();
      }
    }
    var form = item.querySelector(".feature-form");
    if (!form) {
      return;
    }
    event.preventDefault();
    if (typeof form.requestSubmit === "function") {
      form.requestSubmit();  // fires "submit": sendInPlace sends it in the background
    } else {
      form.submit();
    }
  }

  document.addEventListener("keydown", moveBetweenCards);

  // Abstracts in lists show two lines; "Show more" opens the rest in place. The button only
  // appears where the text is longer than two lines.
  function setUpAbstracts() {
    var boxes = document.querySelectorAll(".abstract");
    for (var i = 0; i < boxes.length; i++) {
      var text = boxes[i].querySelector(".abstract-text");
      var toggle = boxes[i].querySelector(".abstract-toggle");
      if (text && toggle && text.scrollHeight > text.clientHeight + 1) {
        toggle.hidden = false;
      }
    }
  }

  function toggleAbstract(event) {
    var toggle = event.target instanceof Element ? event.target.closest(".abstract-toggle") : null;
    if (!toggle) {
      return;
    }
    var box = toggle.closest(".abstract");
    var open = !box.classList.contains("is-open");
    box.classList.toggle("is-open", open);
    toggle.setAttribute("aria-expanded", open ? "true" : "false");
    toggle.firstChild.textContent = open ? "less" : "more";
  }

  document.addEventListener("click", toggleAbstract);

  // A list's category and sort menus apply as soon as one is changed.
  function applyFilter(event) {
    var field = event.target;
    if (field instanceof HTMLSelectElement && field.form &&
        field.form.classList.contains("auto-submit")) {
      field.form.submit();
    }
  }

  document.addEventListener("change", applyFilter);

  function ready() {
    renderMath();
    setUpAbstracts();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", ready);
  } else {
    ready();
  }
})();
