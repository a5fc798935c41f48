// 所在地区 / 生源地: turn the plain region <select> (destreg/reference/widgets.py RegionPicker)
// into three linked, labelled <select>s: province → city → district or county.
// The plain select stays in the form, hidden, and carries the value the form posts, so the
// server sees the same field either way; without scripts it is simply the plain select.
(function () {
  "use strict";
  if (window.destregRegionPicker) return; // the widget brings this script once per field
  window.destregRegionPicker = true;

  var valueProperty = Object.getOwnPropertyDescriptor(HTMLSelectElement.prototype, "value");
  var trees = {};

  // The tree of every region: {name: {code: name}, parent: {code: parent}, children: {code: [codes]}}.
  function loadTree(url) {
    if (!trees[url]) {
      trees[url] = fetch(url, {credentials: "same-origin", headers: {Accept: "application/json"}})
        .then(function (response) {
          if (!response.ok) throw new Error("regions: HTTP " + response.status);
          return response.json();
        })
        .then(function (data) {
          var tree = {name: {}, parent: {}, children: {"": []}};
          data.regions.forEach(function (row) {
            var code = row[0], parent = row[2] || "";
            tree.name[code] = row[1];
            tree.parent[code] = parent;
            (tree.children[parent] = tree.children[parent] || []).push(code);
          });
          return tree;
        });
    }
    return trees[url];
  }

  function enhance(wrapper) {
    var original = wrapper.querySelector("select");
    if (!original || wrapper.dataset.enhanced) return;
    wrapper.dataset.enhanced = "1";
    loadTree(wrapper.dataset.regionsUrl).then(function (tree) {
      build(wrapper, original, tree);
    }).catch(function () {
      delete wrapper.dataset.enhanced; // keep the plain select: it works on its own
    });
  }

  function build(wrapper, original, tree) {
    // Only what the field accepts can be chosen; a level is offered when something below
    // it (or itself) can be.
    var allowed = {};
    Array.prototype.forEach.call(original.options, function (option) {
      if (option.value) allowed[option.value] = true;
    });
    var usableCache = {};
    function usable(code) {
      if (!(code in usableCache)) {
        usableCache[code] = !!allowed[code] ||
          (tree.children[code] || []).some(function (child) { return usable(child); });
      }
      return usableCache[code];
    }
    function childrenOf(code) {
      return (tree.children[code] || []).filter(usable);
    }

    var baseId = original.id || original.name;
    var row = document.createElement("div");
    row.className = "row g-2";
    var levels = ["province", "city", "county"].map(function (level) {
      var column = document.createElement("div");
      column.className = "col-12 col-sm-4";
      var label = document.createElement("label");
      label.className = "form-label small text-muted mb-1";
      label.htmlFor = baseId + "_" + level;
      label.textContent = wrapper.dataset["label" + level.charAt(0).toUpperCase() + level.slice(1)];
      var select = document.createElement("select");
      select.id = baseId + "_" + level;
      select.className = "form-select";
      if (original.classList.contains("is-invalid")) select.classList.add("is-invalid");
      var describedBy = original.getAttribute("aria-describedby");
      if (describedBy) select.setAttribute("aria-describedby", describedBy);
      column.appendChild(label);
      column.appendChild(select);
      row.appendChild(column);
      return select;
    });
    var province = levels[0], city = levels[1], county = levels[2];
    if (original.required) {
      province.required = true;
      city.required = true;
    }

    function fill(select, codes, chosen) {
      var options = [new Option(wrapper.dataset.placeholder, "")];
      codes.forEach(function (code) {
        options.push(new Option(tree.name[code], code, false, code === chosen));
      });
      if (!codes.length) options = [new Option(wrapper.dataset.none, "")];
      select.replaceChildren.apply(select, options);
      select.disabled = !codes.length;
      select.value = chosen && codes.indexOf(chosen) >= 0 ? chosen : "";
    }

    // Show a region code (or nothing) in the three selects.
    function show(code) {
      var path = [];
      for (var at = code; at; at = tree.parent[at]) path.unshift(at);
      fill(province, childrenOf(""), path[0]);
      fill(city, province.value ? childrenOf(province.value) : [], path[1]);
      fill(county, city.value ? childrenOf(city.value) : [], path[2]);
      if (!province.value) city.disabled = true;
      if (!city.value) county.disabled = true;
    }

    // The deepest chosen level the field accepts is the value.
    function chosen() {
      var picks = [county.value, city.value, province.value];
      for (var i = 0; i < picks.length; i++) {
        if (picks[i] && allowed[picks[i]]) return picks[i];
      }
      return "";
    }

    function store() {
      valueProperty.set.call(original, chosen());
      original.dispatchEvent(new Event("change", {bubbles: true}));
    }

    province.addEventListener("change", function () { show(province.value); store(); });
    city.addEventListener("change", function () { show(city.value || province.value); store(); });
    county.addEventListener("change", store);

    // Other scripts (the unit search) set the plain select's value: show it here too.
    Object.defineProperty(original, "value", {
      configurable: true,
      get: function () { return valueProperty.get.call(this); },
      set: function (value) {
        valueProperty.set.call(this, value);
        show(valueProperty.get.call(this));
      },
    });

    show(valueProperty.get.call(original));
    original.hidden = true;
    original.required = false; // a hidden required control would block submitting
    original.tabIndex = -1;
    original.setAttribute("aria-hidden", "true");
    var fieldLabel = original.id && document.querySelector('label[for="' + original.id + '"]');
    if (fieldLabel) {
      // The field's own label now names the group and points at its first select.
      fieldLabel.htmlFor = province.id;
      fieldLabel.id = fieldLabel.id || baseId + "_label";
      row.setAttribute("role", "group");
      row.setAttribute("aria-labelledby", fieldLabel.id);
    }
    wrapper.appendChild(row);
  }

  function start() {
    document.querySelectorAll("[data-region-picker]").forEach(enhance);
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
