/* The Daily Star site scripts, build 20150428 */
$(document).ready(function () {
    $('.mainmenu li').on('mouseenter', function () { this.className += ' hover'; });
    $('.mainmenu li').on('mouseleave', function () { this.className = this.className.replace(' hover', ''); });
    $('.article-tools .print').on('click', function (e) {
        e.preventDefault();
        window.open(this.href, 'print', 'width=700,height=600,scrollbars=yes');
    });
});
