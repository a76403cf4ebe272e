/* Blogger widgets runtime (trimmed) */
(function(){var g=this,h=function(a){return void 0!==a},k=function(a,b){var c=a.split("."),d=g;c[0]in d||!d.execScript||d.execScript("var "+c[0]);for(var e;c.length&&(e=c.shift());)!c.length&&h(b)?d[e]=b:d=d[e]?d[e]:d[e]={}};
var l=[],m={},n=null,p=function(a,b,c,d,e,f){this.id=a;this.sectionId=b;this.parentId=c;this.element=d;this.data=e||{};this.displayMode=f||"displayModeFull"};
var q={_Init:function(a,b,c){n={rearrangeUrl:a,pageUrl:b,blogId:c}},_SetDataContext:function(a){for(var b=0;b<a.length;b++)m[a[b].name]=a[b].data},
_RegisterWidget:function(a,b){l.push({type:a,info:b});if(b.element&&b.element.className.indexOf("BlogArchive")>=0){r(b.element)}},
_GetAllData:function(){return m},_GetAllWidgets:function(){return l},_GetConfig:function(){return n}};
var r=function(a){for(var b=a.getElementsByTagName("a"),c=0;c<b.length;c++)if(b[c].className=="toggle")b[c].onclick=function(){var d=this.parentNode;d.className=d.className.indexOf("collapsed")>=0?d.className.replace("collapsed","expanded"):d.className.replace("expanded","collapsed");return!1}};
k("_WidgetManager",q);k("_WidgetInfo",p);})();
