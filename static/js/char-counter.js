// Live "n/1000" counters under textareas marked data-counter="1000".
document.querySelectorAll("textarea[data-counter]").forEach(function (area) {
  var limit = Number(area.dataset.counter);
  var counter = document.createElement("div");
  counter.className = "form-text text-end";
  area.insertAdjacentElement("afterend", counter);
  function update() {
    counter.textContent = area.value.length + "/" + limit;
    counter.classList.toggle("text-danger", area.value.length > limit);
  }
  area.addEventListener("input", update);
  update();
});
