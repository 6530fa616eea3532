/* Vigie — the evaluation form: every change is saved through the API (PATCH of that item only) and
   the score and eligibility panels are refreshed from the answer. Progressive enhancement only:
   without this file, the "Enregistrer cette section" buttons save the whole form. */
(function () {
  "use strict";

  var TYPING_DELAY = 2000; // ms of quiet before a text being typed is saved
  var COHABITING = { oui: true, non: false };

  function ready(fn) {
    if (document.readyState !== "loading") {
      fn();
    } else {
      document.addEventListener("DOMContentLoaded", fn);
    }
  }

  function pad(n) {
    return (n < 10 ? "0" : "") + n;
  }

  function clock() {
    var now = new Date();
    return pad(now.getHours()) + ":" + pad(now.getMinutes());
  }

  function frenchNumber(value) {
    return String(value).replace(".", ",");
  }

  function flatten(value, out) {
    if (typeof value === "string") {
      out.push(value);
    } else if (Array.isArray(value)) {
      value.forEach(function (v) { flatten(v, out); });
    } else if (value && typeof value === "object") {
      Object.keys(value).forEach(function (key) { flatten(value[key], out); });
    }
    return out;
  }

  function fillList(list, texts, makeItem) {
    while (list.firstChild) {
      list.removeChild(list.firstChild);
    }
    texts.forEach(function (text) {
      list.appendChild(makeItem ? makeItem(text) : textItem(text));
    });
  }

  function textItem(text) {
    var li = document.createElement("li");
    li.textContent = text;
    return li;
  }

  ready(function () {
    var form = document.getElementById("evaluation-form");
    if (!form || !form.dataset.api || !window.fetch || !window.Promise) {
      return;
    }
    document.documentElement.classList.add("has-js");

    var api = form.dataset.api;
    var csrf = form.querySelector("input[name=csrfmiddlewaretoken]").value;
    var statusEl = form.querySelector("[data-autosave-status]");
    var errorEl = form.querySelector("[data-autosave-error]");
    var inFlight = false;
    var waiting = null; // merged changes not yet sent
    var failed = null; // the last body the server did not take
    var submitting = false;
    var submitRequested = false; // the form was submitted while a request was under way…
    var submitter = null; // …with this button
    var timers = {};

    statusEl.textContent = "Enregistrement automatique activé.";

    function all(selector) {
      return Array.prototype.slice.call(form.querySelectorAll(selector));
    }

    function setAll(selector, text) {
      all(selector).forEach(function (el) { el.textContent = text; });
    }

    function showSaved() {
      errorEl.hidden = true;
      errorEl.textContent = "";
      statusEl.classList.add("is-saved");
      statusEl.textContent = "Enregistré à " + clock() + ".";
    }

    function showError(message) {
      statusEl.classList.remove("is-saved");
      statusEl.textContent = "Dernière modification non enregistrée.";
      errorEl.textContent = message;
      errorEl.hidden = false;
    }

    // --- what to send for a changed field ------------------------------------------------------------

    function itemBody(code) {
      var checked = form.querySelector('input[type=radio][data-item="' + code + '"]:checked');
      var comment = form.querySelector('textarea[data-item="' + code + '"]');
      if (!checked) {
        return null;
      }
      var answers = {};
      answers[code] = { answer: checked.value, comment: comment ? comment.value : "" };
      return { answers: answers };
    }

    function eligibilityBody(input) {
      var key = input.dataset.key;
      var value;
      if (input.type === "checkbox") {
        value = input.checked;
      } else if (key === "cohabiting") {
        value = Object.prototype.hasOwnProperty.call(COHABITING, input.value) ? COHABITING[input.value] : null;
      } else if (input.type === "date") {
        value = input.value || null;
      } else {
        value = input.value;
      }
      var eligibility = {};
      eligibility[key] = value;
      return { eligibility: eligibility };
    }

    function interviewBody() {
      var dates = [];
      all('input[type=date][data-autosave="interview"]').forEach(function (input) {
        if (input.value && dates.indexOf(input.value) < 0) {
          dates.push(input.value);
        }
      });
      var place = form.querySelector('input[type=text][data-autosave="interview"]');
      return { interview: { dates: dates.sort(), place: place ? place.value : "" } };
    }

    function bodyFor(input) {
      switch (input.dataset.autosave) {
        case "answer":
          return itemBody(input.dataset.item);
        case "eligibility":
          return eligibilityBody(input);
        case "interview":
          return interviewBody();
        case "judgement":
          return { judgement: input.value };
        case "judgement_reason":
          return { judgement_reason: input.value };
        case "narrative":
          return { narrative: input.value };
        case "recommendation":
          return {
            recommendation: all('input[data-autosave="recommendation"]:checked').map(function (box) { return box.value; })
          };
        default:
          return undefined;
      }
    }

    // --- refreshing the panels from the API's answer --------------------------------------------------

    function redItem(code) {
      var li = document.createElement("li");
      var icon = document.createElement("span");
      var text = document.getElementById("text-" + code);
      icon.className = "red-flag__icon";
      icon.setAttribute("aria-hidden", "true");
      icon.textContent = "⚑";
      li.appendChild(icon);
      li.appendChild(document.createTextNode(" " + (text ? text.textContent : code)));
      return li;
    }

    function renderScore(score) {
      setAll('[data-score="weighted"]', frenchNumber(score.weighted));
      setAll('[data-score="red"]', String(score.red));
      setAll('[data-score="unknown"]', String(score.unknown));
      setAll('[data-score="answered"]', String(score.answered));
      setAll('[data-score="total"]', String(score.total));
      setAll('[data-score="level_label"]', score.level_label);
      all("[data-score-level]").forEach(function (el) {
        el.className = "level level--" + score.level;
        el.setAttribute("data-score-level", score.level);
      });
      all("[data-score-incomplete]").forEach(function (el) { el.hidden = !score.incomplete; });
      all("[data-score-red-items]").forEach(function (list) { fillList(list, score.red_items, redItem); });
      all("[data-score-red-none]").forEach(function (el) { el.hidden = score.red_items.length > 0; });
    }

    function renderEligibility(check) {
      var blocks = check.blocks || [];
      var warnings = check.warnings || [];
      all("[data-eligibility-blocks]").forEach(function (box) {
        fillList(box.querySelector("ul"), blocks);
        box.hidden = blocks.length === 0;
      });
      all("[data-eligibility-warnings]").forEach(function (box) {
        fillList(box.querySelector("ul"), warnings);
        box.hidden = warnings.length === 0;
      });
      all("[data-eligibility-ok]").forEach(function (el) { el.hidden = blocks.length > 0; });
      var plural = blocks.length > 1 ? "s" : "";
      setAll(
        "[data-eligibility-summary]",
        blocks.length ? blocks.length + " point" + plural + " bloquant" + plural : "aucun point bloquant"
      );
    }

    // What would refuse the sending to the parquet, before the finalize button (the API's `blocking`).
    function renderBlocking(blocking) {
      all("[data-blocking]").forEach(function (box) {
        fillList(box.querySelector("ul"), blocking);
        box.hidden = blocking.length === 0;
      });
    }

    function updateProgress(input) {
      var section = input.closest("[data-section]");
      if (section) {
        var answered = section.querySelectorAll("input[type=radio][data-item]:checked").length;
        section.querySelector("[data-progress]").textContent = String(answered);
      }
      var item = input.closest("[data-item]");
      var missing = document.getElementById("missing-" + input.dataset.item);
      if (item && input.type === "radio") {
        item.classList.remove("eval-item--error");
        if (missing) {
          missing.hidden = true;
        }
      }
    }

    function toggleBasis() {
      var checked = form.querySelector("input[name=legal_basis]:checked");
      var basis = checked ? checked.value : "";
      all("[data-basis-group]").forEach(function (group) {
        group.hidden = basis !== "" && group.dataset.basisGroup !== basis;
      });
    }

    // --- sending, one request at a time, in order ------------------------------------------------------

    function messageFor(status, data) {
      var messages = flatten(data, []);
      var text = messages.join(" ");
      if (status === 400) {
        var hint = data && data.judgement ? " Modifiez le « Niveau retenu » dans la conclusion." : "";
        return "Non enregistré : " + (text || "saisie refusée.") + hint;
      }
      if (status === 401 || status === 403) {
        return "Enregistrement refusé" + (text ? " (" + text + ")" : "") +
          ". Votre session a peut-être expiré : vos saisies restent dans la page ; reconnectez-vous dans un autre onglet, puis utilisez « Enregistrer cette section ».";
      }
      if (status === 409) {
        return (text || "L'évaluation ne se modifie plus.") + " Rechargez la page.";
      }
      if (status === 404) {
        return "Évaluation introuvable : rechargez la page.";
      }
      return "Erreur du serveur (" + status + ") : vos saisies restent dans la page ; utilisez « Enregistrer cette section ».";
    }

    // Changes made while a request is under way wait in one merged body (answers and eligibility merge
    // key by key, as the server does): one request at a time, in order, never an older value last.
    function merge(target, body) {
      Object.keys(body).forEach(function (key) {
        if (key === "answers" || key === "eligibility") {
          target[key] = Object.assign({}, target[key] || {}, body[key]);
        } else {
          target[key] = body[key];
        }
      });
      return target;
    }

    function busy() {
      return inFlight || waiting !== null;
    }

    function send(body) {
      inFlight = true;
      return fetch(api, {
        method: "PATCH",
        credentials: "same-origin",
        headers: {
          "Content-Type": "application/json",
          Accept: "application/json",
          "X-CSRFToken": csrf,
          "X-Requested-With": "XMLHttpRequest"
        },
        body: JSON.stringify(body)
      })
        .then(function (response) {
          return response.json().catch(function () { return null; }).then(function (data) {
            if (response.ok && data) {
              failed = null;
              if (data.score) {
                renderScore(data.score);
              }
              if (data.eligibility_check) {
                renderEligibility(data.eligibility_check);
              }
              if (data.blocking) {
                renderBlocking(data.blocking);
              }
              if (waiting === null) {
                showSaved();
              }
            } else {
              // a refused body goes out again with the next change (fixing the judgement, say)
              failed = response.status === 400 ? body : null;
              showError(messageFor(response.status, data));
            }
          });
        }, function () {
          failed = body;
          showError(
            "Connexion perdue : la modification n'est pas enregistrée. Vos saisies restent dans la page ; " +
            "elle repartira avec la prochaine modification, ou utilisez « Enregistrer cette section »."
          );
        })
        .then(function () {
          inFlight = false;
          if (submitRequested) {
            var button = submitter;
            submitRequested = false;
            submitter = null;
            submitting = true;
            if (button) {
              form.requestSubmit(button);
            } else {
              form.requestSubmit();
            }
            return;
          }
          pump();
        });
    }

    function pump() {
      if (inFlight || waiting === null || submitting) {
        return;
      }
      var body = waiting;
      waiting = null;
      send(body);
    }

    function save(body) {
      var base = failed ? merge({}, failed) : {};
      failed = null;
      waiting = merge(waiting ? merge(base, waiting) : base, body);
      pump();
    }

    function saveField(input) {
      var body = bodyFor(input);
      if (body === undefined) {
        return;
      }
      if (body === null) {
        showError("Choisissez Oui, Non ou Ne sait pas pour enregistrer le commentaire de l'élément " + input.dataset.item + ".");
        return;
      }
      save(body);
    }

    form.addEventListener("change", function (event) {
      var input = event.target;
      if (!input.dataset || !input.dataset.autosave) {
        return;
      }
      clearTimeout(timers[input.id]);
      if (input.name === "legal_basis") {
        toggleBasis();
      }
      if (input.dataset.autosave === "answer") {
        updateProgress(input);
      }
      saveField(input);
    });

    form.addEventListener("input", function (event) {
      var input = event.target;
      if (!input.dataset || !input.dataset.autosave) {
        return;
      }
      if (input.tagName !== "TEXTAREA" && input.type !== "text") {
        return;
      }
      clearTimeout(timers[input.id]);
      timers[input.id] = setTimeout(function () {
        var body = bodyFor(input);
        if (body) {
          save(body);
        }
      }, TYPING_DELAY);
    });

    // The whole form posts: waiting changes are in it; a request under way finishes first.
    form.addEventListener("submit", function (event) {
      Object.keys(timers).forEach(function (id) { clearTimeout(timers[id]); });
      waiting = null;
      if (inFlight && !submitting && form.requestSubmit) {
        event.preventDefault();
        submitRequested = true;
        submitter = event.submitter || null;
        statusEl.classList.remove("is-saved");
        statusEl.textContent = "Enregistrement en cours…";
        return;
      }
      submitting = true;
    });

    window.addEventListener("beforeunload", function (event) {
      if (!submitting && (busy() || failed)) {
        event.preventDefault();
        event.returnValue = "";
      }
    });

    toggleBasis();
  });
})();
