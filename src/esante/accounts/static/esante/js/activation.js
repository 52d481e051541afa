/* The activation wizard, enhanced. Every page works without this file: it only shows
   the chosen panel at once (Oui/Non, Mobile/E-mail), adds a show/hide button to the
   password fields, counts down before "Renvoyer le code", and moves the focus to the
   error summary. */
(function () {
  "use strict";

  function t(key) {
    var texts = document.documentElement.getAttribute("lang") || "fr";
    var table = {
      fr: { show: "Afficher le mot de passe" },
      de: { show: "Passwort anzeigen" },
      en: { show: "Show password" },
    };
    return (table[texts] || table.fr)[key];
  }

  // Oui / Non at step 1: show the matching panel without a round trip.
  document.querySelectorAll("[data-received-choice]").forEach(function (form) {
    form.querySelectorAll("[data-no-js-only]").forEach(function (el) { el.hidden = true; });
    function update() {
      var checked = form.querySelector("input[name=recu]:checked");
      var value = checked ? checked.value : "oui";
      document.querySelectorAll("[data-received-panel]").forEach(function (panel) {
        panel.hidden = panel.getAttribute("data-received-panel") !== value;
      });
    }
    form.addEventListener("change", update);
  });

  // Mobile / E-mail at step 3: only the chosen input is shown.
  document.querySelectorAll("[data-channel-choice]").forEach(function (form) {
    function update() {
      var checked = form.querySelector("input[name=channel]:checked");
      var value = checked ? checked.value : "sms";
      form.querySelectorAll("[data-channel-panel]").forEach(function (panel) {
        panel.hidden = panel.getAttribute("data-channel-panel") !== value;
      });
    }
    form.addEventListener("change", update);
    update();
  });

  // Show / hide the password: one toggle for both fields. A toggle button keeps its
  // label; aria-pressed (and its look) says whether the passwords are shown.
  document.querySelectorAll("[data-password-toggle]").forEach(function (group) {
    var inputs = group.querySelectorAll("input[type=password]");
    if (!inputs.length) { return; }
    var button = document.createElement("button");
    button.type = "button";
    button.className = "button-link password-toggle";
    button.setAttribute("aria-pressed", "false");
    button.textContent = t("show");
    button.addEventListener("click", function () {
      var show = button.getAttribute("aria-pressed") !== "true";
      inputs.forEach(function (input) { input.type = show ? "text" : "password"; });
      button.setAttribute("aria-pressed", show ? "true" : "false");
    });
    group.appendChild(button);
  });

  // "Renvoyer le code": wait the 60 seconds out, visibly, in a text that is not a live
  // region; then say it once in the live region (accounts/includes/resend_button.html).
  document.querySelectorAll("[data-resend-wait]").forEach(function (button) {
    var seconds = parseInt(button.getAttribute("data-resend-wait"), 10) || 0;
    if (seconds <= 0 || !button.form) { return; }
    var countdown = button.form.querySelector("[data-resend-countdown]");
    var ready = button.form.querySelector("[data-resend-ready]");
    // The page prints the countdown for its first number: the plural form, unless it is 1.
    var other = countdown ? countdown.textContent : "";
    button.disabled = true;
    var timer = window.setInterval(function () {
      seconds -= 1;
      if (seconds <= 0) {
        window.clearInterval(timer);
        button.disabled = false;
        if (countdown) { countdown.hidden = true; }
        if (ready) { ready.textContent = ready.getAttribute("data-resend-ready"); }
      } else if (countdown) {
        countdown.textContent = seconds === 1
          ? countdown.getAttribute("data-one")
          : other.replace(/\d+/, String(seconds));
      }
    }, 1000);
  });

  // After a refused submission, start from the list of what to correct.
  var summary = document.querySelector("[data-autofocus]");
  if (summary) { summary.focus(); }
})();
