// Open the print dialog as soon as the slip is shown (one click from the staff home page).
(function () {
  var again = document.querySelector(".js-print");
  if (again) {
    again.hidden = false;
    again.addEventListener("click", function () { window.print(); });
  }
  window.addEventListener("load", function () { window.print(); });
})();
