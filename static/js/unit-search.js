// 点击搜索: look up registered employers and units used before, then fill the unit fields.
(function () {
  var input = document.querySelector("input[data-unit-search]");
  var box = document.getElementById("unit-results");
  if (!input || !box) return;
  var button = document.createElement("button");
  button.type = "button";
  button.className = "btn btn-sm btn-outline-secondary mt-1";
  button.textContent = document.documentElement.lang === "en" ? "Search" : "点击搜索";
  input.insertAdjacentElement("afterend", button);
  function set(name, value) {
    var field = document.querySelector("[name=" + name + "]");
    if (field && value !== undefined && value !== null && value !== "") field.value = value;
  }
  button.addEventListener("click", function () {
    fetch(box.dataset.url + "?q=" + encodeURIComponent(input.value), {credentials: "same-origin"})
      .then(function (response) { return response.json(); })
      .then(function (data) {
        box.replaceChildren();
        data.results.forEach(function (unit) {
          var item = document.createElement("button");
          item.type = "button";
          item.className = "list-group-item list-group-item-action";
          item.textContent = unit.name + " · " + unit.uscc;
          item.addEventListener("click", function () {
            set("unit_name", unit.name); set("unit_uscc", unit.uscc);
            set("unit_nature", unit.nature); set("unit_industry", unit.industry);
            set("unit_region", unit.region);
            box.replaceChildren();
          });
          box.appendChild(item);
        });
        if (!data.results.length) {
          var none = document.createElement("div");
          none.className = "list-group-item text-muted";
          none.textContent = document.documentElement.lang === "en" ? "No match" : "未找到匹配的单位";
          box.appendChild(none);
        }
      });
  });
})();
