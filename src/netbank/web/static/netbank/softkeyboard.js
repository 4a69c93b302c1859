// Software keyboard for password fields (web/_softkeyboard.html).
// Progressive enhancement: without this script the field is a plain password input.
// With it, a ticked checkbox makes the field read-only and fills it from on-screen keys
// (digit order reshuffled on every render, so click coordinates reveal nothing);
// clearing the checkbox lets the customer type. Keys are built with DOM calls only.
(function () {
  "use strict";

  // Letters in the rows of a QWERTY keyboard (z starts the bottom row); symbols ten a row.
  var LOWER = ["qwertyuiop", "asdfghjkl", "zxcvbnm"];
  var UPPER = LOWER.map(function (r) { return r.toUpperCase(); });
  var SYMBOLS = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~";

  function shuffled(chars) {
    var a = chars.split("");
    var rnd = new Uint32Array(a.length);
    if (window.crypto && window.crypto.getRandomValues) {
      window.crypto.getRandomValues(rnd);
    } else {
      for (var k = 0; k < a.length; k++) { rnd[k] = Math.floor(Math.random() * 4294967296); }
    }
    for (var i = a.length - 1; i > 0; i--) {
      var j = rnd[i] % (i + 1);
      var t = a[i]; a[i] = a[j]; a[j] = t;
    }
    return a;
  }

  function button(label, onClick, extraClass) {
    var b = document.createElement("button");
    b.type = "button";
    b.className = "btn-secondary" + (extraClass ? " " + extraClass : "");
    b.textContent = label;
    b.addEventListener("click", onClick);
    return b;
  }

  function setup(root) {
    if (root.getAttribute("data-softkeyboard-ready")) { return; }
    root.setAttribute("data-softkeyboard-ready", "1");
    var input = root.querySelector("input[type=password], input[type=text]");
    var controls = root.querySelector("[data-softkeyboard-controls]");
    var toggle = root.querySelector("[data-softkeyboard-toggle]");
    var panel = root.querySelector("[data-softkeyboard-panel]");
    if (!input || !controls || !toggle || !panel) { return; }
    var maxLength = parseInt(input.getAttribute("maxlength") || "64", 10);
    var mode = "lower";
    panel.setAttribute("role", "group");
    panel.setAttribute("aria-label", root.getAttribute("data-label-keys") || "");
    if (!panel.id) { panel.id = (input.id || "softkeyboard") + "-keys"; }
    toggle.setAttribute("aria-controls", panel.id);

    function type(ch) {
      if (input.value.length >= maxLength) { return; }
      input.value += ch;
      input.dispatchEvent(new Event("input", { bubbles: true }));
    }

    function row(chars) {
      var r = document.createElement("div");
      r.className = "softkeyboard-row";
      chars.forEach(function (ch) {
        r.appendChild(button(ch, function () { type(ch); }));
      });
      return r;
    }

    function modeButton(name, label) {
      var b = button(label, function () { mode = name; render(); });
      b.setAttribute("aria-pressed", mode === name ? "true" : "false");
      return b;
    }

    function render() {
      while (panel.firstChild) { panel.removeChild(panel.firstChild); }
      panel.appendChild(row(shuffled("0123456789")));
      var rows = LOWER;
      if (mode === "upper") { rows = UPPER; }
      if (mode === "symbols") {
        rows = [];
        for (var i = 0; i < SYMBOLS.length; i += 10) { rows.push(SYMBOLS.slice(i, i + 10)); }
      }
      rows.forEach(function (r) { panel.appendChild(row(r.split(""))); });
      var tools = document.createElement("div");
      tools.className = "softkeyboard-tools";
      tools.appendChild(modeButton("lower", root.getAttribute("data-label-lower") || "abc"));
      tools.appendChild(modeButton("upper", root.getAttribute("data-label-upper") || "ABC"));
      tools.appendChild(modeButton("symbols", root.getAttribute("data-label-symbols") || "#+="));
      tools.appendChild(button(root.getAttribute("data-label-backspace") || "BS", function () {
        input.value = input.value.slice(0, -1);
      }));
      tools.appendChild(button(root.getAttribute("data-label-clear") || "C", function () {
        input.value = "";
        render();
      }));
      panel.appendChild(tools);
    }

    function apply() {
      if (toggle.checked) {
        input.readOnly = true;
        input.setAttribute("autocomplete", "off");
        panel.hidden = false;
        render();
      } else {
        input.readOnly = false;
        panel.hidden = true;
        input.focus();
      }
    }

    toggle.addEventListener("change", apply);
    controls.hidden = false;
    apply();
  }

  function init() {
    var roots = document.querySelectorAll("[data-softkeyboard]");
    for (var i = 0; i < roots.length; i++) { setup(roots[i]); }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
