/* Progressive enhancement of the portal frame. Every page works without this file.
 *
 * The main menu is a native <details> disclosure. This script only adds what a
 * dropdown is expected to do: Escape closes it (focus back on its toggle), and a click
 * or focus outside it closes it.
 */
(function () {
  "use strict";

  var menus = document.querySelectorAll("details[data-menu]");
  if (!menus.length) {
    return;
  }

  function closeAll(except) {
    menus.forEach(function (menu) {
      if (menu !== except) {
        menu.open = false;
      }
    });
  }

  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") {
      return;
    }
    menus.forEach(function (menu) {
      if (menu.open) {
        menu.open = false;
        if (menu.contains(document.activeElement)) {
          menu.querySelector("summary").focus();
        }
      }
    });
  });

  document.addEventListener("click", function (event) {
    closeAll(event.target.closest("details[data-menu]"));
  });

  document.addEventListener("focusin", function (event) {
    closeAll(event.target.closest("details[data-menu]"));
  });
})();
