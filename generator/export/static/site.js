// Client-side search over titles and text. The index is a script, not JSON, so that it
// also loads from file:// (browsers refuse fetch() there); it is loaded on first use.
(function () {
  var input = document.getElementById("search");
  var list = document.getElementById("search-results");
  if (!input || !list) return;
  var root = document.body.dataset.root || "";
  var loading = null;

  function load() {
    // An array, not just set: an element with that id would stand for it too.
    if (Array.isArray(window.VAULTGEN_SEARCH)) return Promise.resolve(window.VAULTGEN_SEARCH);
    if (!loading) {
      loading = new Promise(function (resolve, reject) {
        var script = document.createElement("script");
        script.src = root + "_assets/search-index.js";
        script.onload = function () { resolve(window.VAULTGEN_SEARCH); };
        script.onerror = reject;
        document.head.appendChild(script);
      });
    }
    return loading;
  }

  function matches(entries, query) {
    var terms = query.toLowerCase().split(/\s+/).filter(Boolean);
    if (!terms.length) return [];
    var hits = [];
    for (var i = 0; i < entries.length; i++) {
      var title = entries[i][0].toLowerCase(), text = entries[i][2], score = 0, ok = true;
      for (var t = 0; t < terms.length && ok; t++) {
        if (title.indexOf(terms[t]) >= 0) score += 10;
        else if (text.indexOf(terms[t]) >= 0) score += 1;
        else ok = false;
      }
      if (ok) hits.push([score, entries[i][0], entries[i][1]]);
    }
    hits.sort(function (a, b) { return b[0] - a[0] || (a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0); });
    return hits.slice(0, 20);
  }

  function show(hits) {
    list.textContent = "";
    if (!hits.length) {
      var none = document.createElement("li");
      none.className = "empty";
      none.textContent = "No matching note";
      list.appendChild(none);
    }
    hits.forEach(function (hit) {
      var item = document.createElement("li"), link = document.createElement("a");
      link.href = root + hit[2].split("/").map(encodeURIComponent).join("/");
      link.textContent = hit[1];
      item.appendChild(link);
      list.appendChild(item);
    });
    list.hidden = false;
  }

  input.addEventListener("input", function () {
    var query = input.value;
    if (!query.trim()) { list.hidden = true; return; }
    load().then(function (entries) { if (input.value === query) show(matches(entries, query)); });
  });
  input.addEventListener("focus", function () { load(); });
  input.addEventListener("keydown", function (event) {
    if (event.key === "Enter") {
      var first = list.querySelector("a");
      if (first) window.location.href = first.href;
    } else if (event.key === "Escape") {
      list.hidden = true;
    }
  });
})();
