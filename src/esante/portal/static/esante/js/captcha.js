/* Progressive enhancement of the captcha (portal/captcha/widget.html).
 *
 * Without this file the refresh button submits the form and the page comes back with a
 * new captcha. With it, the button asks django-simple-captcha's refresh view for a new
 * captcha and swaps the image, the hidden key and the audio in place; the typed answer
 * is cleared, the focus goes to it and a live region says what changed. If the request
 * fails, the button falls back to submitting the form, as without JavaScript.
 */
(function () {
  "use strict";

  function enhance(box) {
    var button = box.querySelector("[data-captcha-refresh]");
    var image = box.querySelector("[data-captcha-image]");
    var audio = box.querySelector("[data-captcha-audio]");
    var audioLink = box.querySelector("[data-captcha-audio-link]");
    var keyInput = box.querySelector('input[type="hidden"]');
    var answerInput = box.querySelector(".captcha-input");
    var status = box.querySelector("[data-captcha-status]");
    var busy = false;

    function showNewCaptcha(captcha) {
      // The refresh view gives no audio URL (it only knows flite's): ours has the key in it.
      var audioUrl = audioLink.getAttribute("href").replace(keyInput.value, captcha.key);
      keyInput.value = captcha.key;
      image.src = captcha.image_url;
      audio.pause();
      audio.src = audioUrl;
      audioLink.href = audioUrl;
      answerInput.value = "";
      answerInput.focus();
      // Emptied then filled, so that the same message is announced again on a new refresh.
      status.textContent = "";
      window.setTimeout(function () {
        status.textContent = box.dataset.messageRefreshed;
      }, 100);
    }

    button.addEventListener("click", function (event) {
      event.preventDefault();
      if (busy) {
        return;
      }
      busy = true;
      fetch(box.dataset.refreshUrl, {
        headers: { "X-Requested-With": "XMLHttpRequest", Accept: "application/json" },
        credentials: "same-origin",
        cache: "no-store",
      })
        .then(function (response) {
          if (!response.ok) {
            throw new Error("captcha refresh: HTTP " + response.status);
          }
          return response.json();
        })
        .then(showNewCaptcha)
        .catch(function () {
          // Do what the button does without JavaScript: submit the form to get a new captcha.
          button.form.requestSubmit(button);
        })
        .finally(function () {
          busy = false;
        });
    });
  }

  document.querySelectorAll("[data-captcha]").forEach(function (box) {
    // The widget loads this file once per captcha: enhance each captcha once.
    if (box.dataset.captchaEnhanced) {
      return;
    }
    box.dataset.captchaEnhanced = "true";
    enhance(box);
  });
})();
