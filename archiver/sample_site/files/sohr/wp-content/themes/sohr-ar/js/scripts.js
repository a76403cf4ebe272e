/* SOHR Arabic theme scripts */
(function () {
	var menu = document.getElementById('menu');
	if (!menu) { return; }
	var items = menu.getElementsByTagName('li');
	for (var i = 0; i < items.length; i++) {
		items[i].onmouseover = function () { this.className += ' hover'; };
		items[i].onmouseout = function () { this.className = this.className.replace(' hover', ''); };
	}
})();
