/* Passkeys (WebAuthn): registration forms [data-passkey-register] and the login button
   [data-passkey-login]. Without WebAuthn in the browser (or outside a secure context), they
   stay hidden; the server does not render them at an IP address. Every failure is told in
   the page's language, from the form's data-attributes, never in the browser's English. */
(function () {
  "use strict";
  if (!window.PublicKeyCredential || !navigator.credentials || !window.isSecureContext) { return; }

  function fromBase64url(text) {
    var base64 = text.replace(/-/g, "+").replace(/_/g, "/");
    while (base64.length % 4) { base64 += "="; }
    var binary = atob(base64);
    var bytes = new Uint8Array(binary.length);
    for (var i = 0; i < binary.length; i++) { bytes[i] = binary.charCodeAt(i); }
    return bytes.buffer;
  }

  function toBase64url(buffer) {
    var bytes = new Uint8Array(buffer);
    var binary = "";
    for (var i = 0; i < bytes.length; i++) { binary += String.fromCharCode(bytes[i]); }
    return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function creationOptions(json) {
    if (PublicKeyCredential.parseCreationOptionsFromJSON) {
      return PublicKeyCredential.parseCreationOptionsFromJSON(json);
    }
    json.challenge = fromBase64url(json.challenge);
    json.user.id = fromBase64url(json.user.id);
    (json.excludeCredentials || []).forEach(function (item) { item.id = fromBase64url(item.id); });
    return json;
  }

  function requestOptions(json) {
    if (PublicKeyCredential.parseRequestOptionsFromJSON) {
      return PublicKeyCredential.parseRequestOptionsFromJSON(json);
    }
    json.challenge = fromBase64url(json.challenge);
    (json.allowCredentials || []).forEach(function (item) { item.id = fromBase64url(item.id); });
    return json;
  }

  function credentialJSON(credential) {
    if (credential.toJSON) { return credential.toJSON(); }
    var response = credential.response;
    var json = {
      id: credential.id,
      rawId: toBase64url(credential.rawId),
      type: credential.type,
      clientExtensionResults: credential.getClientExtensionResults(),
      response: { clientDataJSON: toBase64url(response.clientDataJSON) }
    };
    if (response.attestationObject) {
      json.response.attestationObject = toBase64url(response.attestationObject);
      json.response.transports = response.getTransports ? response.getTransports() : [];
    } else {
      json.response.authenticatorData = toBase64url(response.authenticatorData);
      json.response.signature = toBase64url(response.signature);
      if (response.userHandle) { json.response.userHandle = toBase64url(response.userHandle); }
    }
    return json;
  }

  function post(url, csrf, body) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf },
      body: JSON.stringify(body || {})
    }).then(function (response) {
      return response.json().then(function (data) {
        if (!response.ok && !data.error) { throw new Error("HTTP " + response.status); }
        return data;
      });
    });
  }

  function show(status, message) {
    if (!status) { return; }
    status.textContent = message;
    status.hidden = false;
    status.focus();
  }

  // To the page the server names; the same page (Mon compte → #passkeys) is reloaded, as
  // changing only the fragment would not show the new key nor the message.
  function go(url) {
    var target = new URL(url, window.location.href);
    if (target.pathname === window.location.pathname && target.search === window.location.search) {
      window.location.hash = target.hash;
      window.location.reload();
    } else {
      window.location.assign(target.href);
    }
  }

  // The server's own refusals come translated; the browser's DOMExceptions do not.
  function ServerRefusal(message) { this.message = message; }

  function failure(form, error) {
    var name = error && error.name;
    if (error instanceof ServerRefusal) { return error.message; }
    if (name === "NotAllowedError" || name === "AbortError") { return form.dataset.cancelled; }
    if (name === "InvalidStateError") { return form.dataset.duplicate; }
    if (name === "SecurityError") { return form.dataset.invalidDomain; }
    if (name === "NotSupportedError") { return form.dataset.unsupported; }
    return form.dataset.failed;
  }

  document.querySelectorAll("[data-passkey]").forEach(function (element) {
    element.hidden = false;
  });

  document.querySelectorAll("form[data-passkey-register]").forEach(function (form) {
    var status = form.querySelector("[data-passkey-status]");
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var csrf = form.querySelector("input[name=csrfmiddlewaretoken]").value;
      var name = form.querySelector("input[name=name]");
      var purpose = form.dataset.purpose || "account";
      var button = form.querySelector("button[type=submit]");
      button.disabled = true;
      post(form.dataset.optionsUrl, csrf, { purpose: purpose })
        .then(function (options) {
          if (options.error) { throw new ServerRefusal(options.error); }
          return navigator.credentials.create({ publicKey: creationOptions(options) });
        })
        .then(function (credential) {
          return post(form.action, csrf, {
            purpose: purpose,
            name: name ? name.value : "",
            credential: credentialJSON(credential)
          });
        })
        .then(function (result) {
          if (result.error) { throw new ServerRefusal(result.error); }
          go(result.redirect);
        })
        .catch(function (error) {
          button.disabled = false;
          show(status, failure(form, error));
        });
    });
  });

  document.querySelectorAll("form[data-passkey-login]").forEach(function (form) {
    var status = form.querySelector("[data-passkey-status]");
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var csrf = form.querySelector("input[name=csrfmiddlewaretoken]").value;
      var button = form.querySelector("button[type=submit]");
      button.disabled = true;
      post(form.dataset.optionsUrl, csrf)
        .then(function (options) {
          if (options.error) { throw new ServerRefusal(options.error); }
          return navigator.credentials.get({ publicKey: requestOptions(options) });
        })
        .then(function (credential) {
          return post(form.action, csrf, { credential: credentialJSON(credential) });
        })
        .then(function (result) {
          if (result.error) { throw new ServerRefusal(result.error); }
          go(result.redirect);
        })
        .catch(function (error) {
          button.disabled = false;
          show(status, failure(form, error));
        });
    });
  });
})();
