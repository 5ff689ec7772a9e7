// Mermaid from the bundled script; its theme follows the system's light or dark setting.
(function () {
  var dark = window.matchMedia && window.matchMedia("(prefers-color-scheme: dark)").matches;
  mermaid.initialize({ startOnLoad: false, theme: dark ? "dark" : "default", securityLevel: "strict" });
  mermaid.run({ querySelector: "pre.mermaid" }).then(function () {
    document.documentElement.dataset.mermaid = "done";
  }, function (error) {
    document.documentElement.dataset.mermaid = "failed";
    console.error(error);
  });
})();
