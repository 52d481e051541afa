/* The activation wizard, enhanced. Every page works without this file: it only shows
   the chosen panel at once (Oui/Non, Mobile/E-mail), adds a show/hide button to the
   password fields, counts down before "Renvoyer le code", and moves the focus to the
   error summary. */
(function () {
  "use strict";

  function t(key) {
    var texts = document.documentElement.getAttribute("lang") || "fr";
    var table = {
      fr: { show: "Afficher le mot de passe", hide: "Masquer le mot de passe" },
      de: { show: "Passwort anzeigen", hide: "Passwort verbergen" },
      en: { show: "Show password", hide: "Hide password" },
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

  // Show / hide the password: one toggle for both fields.
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
      button.textContent = show ? t("hide") : t("show");
    });
    group.appendChild(button);
  });

  // "Renvoyer le code": wait the 60 seconds out, visibly.
  document.querySelectorAll("[data-resend-wait]").forEach(function (button) {
    var seconds = parseInt(button.getAttribute("data-resend-wait"), 10) || 0;
    var countdown = document.querySelector("[data-resend-countdown]");
    if (seconds <= 0) { return; }
    button.disabled = true;
    var timer = window.setInterval(function () {
      seconds -= 1;
      if (seconds <= 0) {
        window.clearInterval(timer);
        button.disabled = false;
        if (countdown) { countdown.hidden = true; }
      } else if (countdown) {
        countdown.textContent = countdown.textContent.replace(/\d+/, String(seconds));
      }
    }, 1000);
  });

  // After a refused submission, start from the list of what to correct.
  var summary = document.querySelector("[data-autofocus]");
  if (summary) { summary.focus(); }
})();
