// raredx workbench: the HPO term combobox (keyboard and mouse), confirmations of plain forms, printing.
// Everything else is htmx attributes in the templates.
(function () {
  "use strict";

  function combo() { return document.getElementById("term-q"); }
  function listbox() { return document.getElementById("term-options"); }
  function options() { return Array.from(listbox().querySelectorAll('[role="option"]:not([aria-disabled="true"])')); }

  function close() {
    var input = combo(), list = listbox();
    if (!input || !list) return;
    list.hidden = true;
    input.setAttribute("aria-expanded", "false");
    input.removeAttribute("aria-activedescendant");
  }

  function activate(index) {
    var opts = options(), input = combo();
    opts.forEach(function (o, i) { o.setAttribute("aria-selected", i === index ? "true" : "false"); });
    if (index >= 0 && opts[index]) {
      input.setAttribute("aria-activedescendant", opts[index].id);
      opts[index].scrollIntoView({block: "nearest"});
    } else {
      input.removeAttribute("aria-activedescendant");
    }
  }

  function active() {
    var opts = options();
    for (var i = 0; i < opts.length; i++) if (opts[i].getAttribute("aria-selected") === "true") return i;
    return -1;
  }

  function choose(option) {
    var input = combo(), add = document.getElementById("add-term");
    document.getElementById("add-id").value = option.dataset.id;
    input.value = option.dataset.label;
    close();
    add.click();  // a click, so that htmx sends the button's op=add with the form
  }

  document.addEventListener("htmx:afterSwap", function (e) {
    var list = listbox();
    if (list && e.detail.target === list) {
      var has = list.children.length > 0 && combo().value.trim() !== "";
      list.hidden = !has;
      combo().setAttribute("aria-expanded", has ? "true" : "false");
      activate(-1);
    }
  });

  document.addEventListener("keydown", function (e) {
    var input = combo();
    if (!input || e.target !== input) return;
    var opts = options(), i = active();
    if (e.key === "ArrowDown" || e.key === "ArrowUp") {
      if (!opts.length) return;
      e.preventDefault();
      var next = e.key === "ArrowDown" ? (i + 1) % opts.length : (i <= 0 ? opts.length - 1 : i - 1);
      listbox().hidden = false;
      input.setAttribute("aria-expanded", "true");
      activate(next);
    } else if (e.key === "Enter") {
      e.preventDefault();  // never submit the form with no term chosen
      if (opts.length) choose(opts[i >= 0 ? i : 0]);
    } else if (e.key === "Escape") {
      close();
    }
  });

  document.addEventListener("click", function (e) {
    var option = e.target.closest && e.target.closest('#term-options [role="option"]');
    if (option && option.getAttribute("aria-disabled") !== "true") {
      choose(option);
    } else if (e.target !== combo()) {
      close();
    }
    var action = e.target.closest && e.target.closest("[data-action=print]");
    if (action) window.print();
  });

  // plain (non-htmx) forms that destroy something ask first
  document.addEventListener("submit", function (e) {
    var message = e.target.dataset && e.target.dataset.confirm;
    if (message && !window.confirm(message)) e.preventDefault();
  });
})();
