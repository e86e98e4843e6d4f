// The page shell on a phone (issue 22): below 640 px the header's menu folds behind a
// button, and the folded filter boxes (<details class="fold">) stay open on a desk.
// Without this script the menu simply wraps under the title and the filters open on a tap.
// Lines of an error summary take the keyboard to their field.
(function () {
  "use strict";
  var narrow = window.matchMedia("(max-width: 639.98px)");

  function setUpMenu() {
    var header = document.getElementById("top");
    var button = document.getElementById("menu-button");
    var menu = document.getElementById("menu");
    if (!header || !button || !menu) return;
    button.hidden = false;
    header.classList.add("foldable");

    function show(open) {
      header.classList.toggle("open", open);
      button.setAttribute("aria-expanded", open ? "true" : "false");
    }

    button.addEventListener("click", function () {
      var open = button.getAttribute("aria-expanded") !== "true";
      show(open);
      if (open) {
        var first = menu.querySelector("a, button");
        if (first) first.focus();
      }
    });
    document.addEventListener("keydown", function (event) {
      if (event.key === "Escape" && header.classList.contains("open")) {
        show(false);
        button.focus();
      }
    });
    narrow.addEventListener("change", function () { show(false); });
  }

  function openFoldsOnDesk() {
    var folds = document.querySelectorAll("details.fold");
    for (var i = 0; i < folds.length; i++) {
      if (!narrow.matches) folds[i].open = true;
    }
  }

  // A line of an error summary moves the focus to its field (a fragment link alone only
  // scrolls to a <select> or a checkbox).
  function focusFieldsFromSummaries() {
    var links = document.querySelectorAll(".error-summary a[href^='#']");
    for (var i = 0; i < links.length; i++) {
      links[i].addEventListener("click", function (event) {
        var field = document.getElementById(this.getAttribute("href").slice(1));
        if (!field) return;
        event.preventDefault();
        field.focus();
        field.scrollIntoView({block: "center"});
      });
    }
  }

  // A box that scrolls (a wide table on a phone, a tall diagram) takes the keyboard's focus
  // when it holds nothing focusable, so that keyboard users can scroll it too.
  function focusableScrollers() {
    var boxes = document.querySelectorAll("table.list, table.diff, .diagram, .ledger-wrap");
    for (var i = 0; i < boxes.length; i++) {
      var box = boxes[i];
      var scrolls = box.scrollWidth > box.clientWidth + 1 || box.scrollHeight > box.clientHeight + 1;
      var reachable = box.querySelector("a[href], button, input, select, textarea, [tabindex]");
      if (scrolls && !reachable) box.setAttribute("tabindex", "0");
    }
  }

  document.addEventListener("DOMContentLoaded", function () {
    setUpMenu();
    focusableScrollers();
    focusFieldsFromSummaries();
    openFoldsOnDesk();
    narrow.addEventListener("change", openFoldsOnDesk);
  });
})();
