// Live regions: an element with data-poll="URL" is refreshed from that URL every few seconds
// (data-every, in ms). Polls say so in a header, so they do not count as activity; a 401
// (session ended) sends the browser to the login page.
(function () {
  "use strict";
  function follow(el) {
    var url = el.getAttribute("data-poll");
    var every = parseInt(el.getAttribute("data-every") || "3000", 10);
    var last = el.innerHTML;
    function tick() {
      fetch(url, { headers: { "X-Dashboard-Poll": "1" }, credentials: "same-origin", cache: "no-store" })
        .then(function (response) {
          if (response.status === 401) {
            window.location.href = "/dashboard/login?next=" + encodeURIComponent(location.pathname + location.search);
            return null;
          }
          return response.ok ? response.text() : null;
        })
        .then(function (html) {
          if (html === null || html === last) { return; }
          var atBottom = el.scrollHeight - el.scrollTop - el.clientHeight < 40;
          el.innerHTML = html;
          last = el.innerHTML;
          if (el.hasAttribute("data-stick-bottom") && atBottom) { el.scrollTop = el.scrollHeight; }
        })
        .catch(function () { /* offline for a moment: try again at the next tick */ })
        .then(function () { window.setTimeout(tick, every); });
    }
    if (el.hasAttribute("data-stick-bottom")) { el.scrollTop = el.scrollHeight; }
    window.setTimeout(tick, every);
  }
  document.querySelectorAll("[data-poll]").forEach(follow);
})();

// Prepared replies: choosing one in <select data-fills="ID"> puts its text (the option's
// data-text) in the textarea #ID, to be edited before sending. Nothing is sent by choosing.
(function () {
  "use strict";
  document.querySelectorAll("select[data-fills]").forEach(function (select) {
    select.addEventListener("change", function () {
      var option = select.options[select.selectedIndex];
      var box = document.getElementById(select.getAttribute("data-fills"));
      if (!box || !option || !option.getAttribute("data-text")) { return; }
      box.value = option.getAttribute("data-text");
      box.focus();
    });
  });
})();
