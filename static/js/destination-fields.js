// 其他去向: show the fields and proofs of the chosen destination type only, marked required
// as the server will require them. The table (type → fields asked, required, alternatives,
// labels) is the server's OTHER_KIND_FIELDS, given as JSON in the page: no copy of it here.
// Without this script every group shows, headed by the types it is for.
(function () {
  var box = document.getElementById("kind-fields");
  var kind = document.getElementById("id_kind");
  if (!box || !kind) return;
  var table = JSON.parse(document.getElementById(box.dataset.table).textContent);

  function label(name) {
    return document.querySelector('label[for="id_' + name + '"]');
  }

  function mark(name, required, text) {
    var input = document.getElementById("id_" + name);
    var tag = label(name);
    if (!input || !tag) return;
    // A stored file needs no new one: the server knows it and said so by not marking it.
    var kept = input.type === "file" && input.dataset.kept === "1";
    input.required = required && !kept;
    if (input.required) input.setAttribute("aria-required", "true");
    else input.removeAttribute("aria-required");
    tag.textContent = text || table.labels[name];
    if (input.required) {
      var star = document.createElement("span");
      star.className = "asteriskField";
      star.textContent = "*";
      tag.appendChild(star);
    }
    tag.classList.toggle("requiredField", input.required);
  }

  function update() {
    var spec = table.kinds[kind.value];
    box.querySelectorAll(".kind-group[data-kinds]").forEach(function (group) {
      group.hidden = !!spec && group.dataset.kinds.split(" ").indexOf(kind.value) < 0;
    });
    box.querySelectorAll("input, select, textarea").forEach(function (input) {
      var name = input.name;
      if (!name || !label(name)) return;
      var asked = spec && spec.asks.indexOf(name) >= 0;
      mark(name, !!asked && spec.required.indexOf(name) >= 0, asked && spec.labels[name]);
    });
  }

  // One type's fields show at a time: the headings naming the types are for pages
  // without this script (still read out to screen readers).
  box.querySelectorAll(".kind-group legend").forEach(function (legend) {
    legend.classList.add("visually-hidden");
  });
  kind.addEventListener("change", update);
  update();
})();
