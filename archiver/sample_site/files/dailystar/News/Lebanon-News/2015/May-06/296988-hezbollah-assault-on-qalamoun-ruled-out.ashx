<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN" "http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd">
<html xmlns="http://www.w3.org/1999/xhtml" xmlns:og="http://ogp.me/ns#" xmlns:fb="http://www.facebook.com/2008/fbml">
<head id="Head1"><title>
	Hezbollah assault on Qalamoun ruled out | News , Lebanon News | THE DAILY STAR
</title><meta http-equiv="Content-Type" content="text/html; charset=utf-8" />
<meta name="description" content="A security source ruled out an imminent all-out Hezbollah offensive in Syria's Qalamoun region, saying the clashes on the outskirts of Arsal and Brital remained limited." />
<meta name="keywords" content="Hezbollah, Qalamoun, Arsal, Nusra Front, Lebanon, Syria" />
<meta property="og:title" content="Hezbollah assault on Qalamoun ruled out" />
<meta property="og:type" content="article" />
<meta property="og:url" content="{{dailystar}}/News/Lebanon-News/2015/May-06/296988-hezbollah-assault-on-qalamoun-ruled-out.ashx" />
<meta property="og:site_name" content="The Daily Star" />
<meta name="twitter:card" content="summary_large_image" />
<meta name="twitter:site" content="@DailyStarLeb" />
<link rel="canonical" href="{{dailystar}}/News/Lebanon-News/2015/May-06/296988-hezbollah-assault-on-qalamoun-ruled-out.ashx" />
<link rel="shortcut icon" href="/favicon.ico" type="image/x-icon" />
<link rel="alternate" type="application/rss+xml" title="The Daily Star - Lebanon News" href="/RSS.aspx?id=1" />
<link href="/Content/css/dailystar.css?v=20150428" rel="stylesheet" type="text/css" />
<script type="text/javascript" src="/Scripts/jquery-1.8.2.min.js"></script>
<script type="text/javascript">
    var googletag = googletag || {};
    googletag.cmd = googletag.cmd || [];
    googletag.cmd.push(function () {
        googletag.defineSlot('/7254/DailyStar_Lebanon_News', [728, 90], 'div-gpt-ad-1430896220112-0').addService(googletag.pubads());
        googletag.defineSlot('/7254/DailyStar_Lebanon_News_MPU', [300, 250], 'div-gpt-ad-1430896220112-1').addService(googletag.pubads());
        googletag.pubads().enableSingleRequest();
        googletag.enableServices();
    });
</script>
</head>
<body>
<div id="fb-root"></div>
<script>(function(d, s, id) {
  var js, fjs = d.getElementsByTagName(s)[0];
  if (d.getElementById(id)) return;
  js = d.createElement(s); js.id = id;
  js.src = "//connect.facebook.net/en_US/sdk.js#xfbml=1&version=v2.3&appId=120433914691468";
  fjs.parentNode.insertBefore(js, fjs);
}(document, 'script', 'facebook-jssdk'));</script>
<form name="aspnetForm" method="post" action="296988-hezbollah-assault-on-qalamoun-ruled-out.ashx" id="aspnetForm">
<div>
<input type="hidden" name="__VIEWSTATE" id="__VIEWSTATE" value="/wEPDwUKMTY1NDU2MTA1MmRkmVPS0bq3V2xgD3m1C1b9E7kq3pE=" />
</div>
<div id="wrapper">
  <div id="topbar">
    <div class="date">Wednesday, May 06, 2015</div>
    <ul class="toplinks">
      <li><a href="/Subscription.aspx">Subscribe</a></li>
      <li><a href="/Advertise.ashx">Advertise</a></li>
      <li><a href="https://www.facebook.com/dailystarleb" target="_blank">Facebook</a></li>
      <li><a href="https://twitter.com/DailyStarLeb" target="_blank">Twitter</a></li>
    </ul>
  </div>
  <div id="header">
    <a href="/" class="logo"><img src="/Content/images/logo.png" alt="The Daily Star" width="300" height="90" /></a>
    <div class="leaderboard">
      <!-- DailyStar_Lebanon_News -->
      <div id='div-gpt-ad-1430896220112-0' style='width:728px; height:90px;'>
        <script type='text/javascript'>
          googletag.cmd.push(function() { googletag.display('div-gpt-ad-1430896220112-0'); });
        </script>
        <noscript><a href="http://ad.doubleclick.net/N7254/jump/DailyStar_Lebanon_News;sz=728x90;ord=296988" target="_blank">Advertisement</a></noscript>
      </div>
    </div>
  </div>
  <div id="nav">
    <ul class="mainmenu">
      <li><a href="/">Home</a></li>
      <li class="selected"><a href="/News/Lebanon-News.ashx">Lebanon News</a></li>
      <li><a href="/News/Middle-East.ashx">Middle East</a></li>
      <li><a href="/News/Analysis.ashx">Analysis</a></li>
      <li><a href="/Business.ashx">Business</a></li>
      <li><a href="/Opinion.ashx">Opinion</a></li>
      <li><a href="/Culture.ashx">Culture</a></li>
      <li><a href="/Sports.ashx">Sports</a></li>
      <li><a href="/Life.ashx">Life</a></li>
    </ul>
  </div>
  <div id="content">
    <div class="breadcrumb"><a href="/">Home</a> &gt; <a href="/News.ashx">News</a> &gt; <a href="/News/Lebanon-News.ashx">Lebanon News</a></div>
    <div id="bodyHolder_divArticle" class="article-col">
      <h1 class="article-title">Hezbollah assault on Qalamoun ruled out</h1>
      <div class="article-meta">
        <span class="author">Hassan Ghoussoub</span>| <span class="source">The Daily Star</span>
        <div class="date">May. 06, 2015 | 12:09 AM</div>
      </div>
      <div class="article-tools">
        <a href="/Article.aspx?id=296988&amp;mode=print" target="_blank" class="print">Print</a>
        <a href="/Mail.aspx?id=296988" class="email">Email</a>
        <a href="https://www.facebook.com/sharer/sharer.php?u={{dailystar}}/News/Lebanon-News/2015/May-06/296988-hezbollah-assault-on-qalamoun-ruled-out.ashx" target="_blank" class="fb">Share</a>
        <a href="https://twitter.com/share?url={{dailystar}}/News/Lebanon-News/2015/May-06/296988-hezbollah-assault-on-qalamoun-ruled-out.ashx&amp;text=Hezbollah%20assault%20on%20Qalamoun%20ruled%20out&amp;via=DailyStarLeb" target="_blank" class="tw">Tweet</a>
      </div>
      <div class="article-image">
        <img src="{{dailystar}}/dailystar/Pictures/2015/05/06/416283_img650x420_img650x420_crop.jpg" alt="Hezbollah fighters" width="650" height="420" />
        <div class="caption">A picture taken from the Lebanese town of Brital shows the barren hills of the Qalamoun range on the border with Syria. (The Daily Star/Hassan Shaaban)</div>
      </div>
      <div id="bodyHolder_divDetails" class="article-body">
        <p><b>BEIRUT:</b> A senior security source ruled out Tuesday an imminent all-out Hezbollah assault on the Syrian Qalamoun region, saying the fighting that erupted on the outskirts of Arsal and Brital over the weekend remained limited to the hills overlooking the border crossings.</p>
        <p>&ldquo;What is happening now is a series of pre-emptive operations. There is no decision for a large-scale offensive before the snow has completely melted from the mountain passes,&rdquo; the source told The Daily Star, speaking on condition of anonymity.</p>
        <p>Militants from the Nusra Front and other rebel groups attacked Syrian army and Hezbollah positions near the towns of Assal al-Ward and Ras al-Maara Monday, in what opposition activists described as an attempt to break the siege imposed on them in the rugged area.</p>
        <p>Hezbollah has not officially commented on the clashes, but sources close to the party said its fighters had repelled the attack and killed dozens of militants. Al-Manar television broadcast footage of what it said were Syrian army artillery units shelling rebel posts in the Qalamoun heights.</p>
        <p>Lebanese Army units stationed on the outskirts of Arsal have been put on high alert, a military source said, adding that troops had reinforced their positions in the area of Wadi Hmeid and the Masyida hills to prevent any infiltration into Lebanese territory.</p>
        <p>Several politicians from the March 14 coalition warned that any Hezbollah battle in Qalamoun could drag Lebanon into the Syrian war. &ldquo;The Lebanese state alone should decide on matters of war and peace,&rdquo; Future Movement MP Ahmad Fatfat said.</p>
        <p>Thousands of militants are believed to be holed up in the mountainous border region since they were driven out of Qusair, Yabroud and other towns by the Syrian army and Hezbollah in 2013 and 2014.</p>
        <p>A version of this article appeared in the print edition of The Daily Star on May 06, 2015, on page 2.</p>
      </div>
      <div class="article-tags">
        <span>Tags:</span>
        <a href="/Tags.aspx?tag=Hezbollah">Hezbollah</a>
        <a href="/Tags.aspx?tag=Qalamoun">Qalamoun</a>
        <a href="/Tags.aspx?tag=Arsal">Arsal</a>
      </div>
      <div class="related-articles">
        <h3>Related Articles</h3>
        <ul>
          <li><a href="/News/Lebanon-News/2015/May-05/296870-hezbollah-fighters-killed-in-qalamoun-clashes.ashx">Hezbollah fighters killed in Qalamoun clashes</a></li>
          <li><a href="/News/Lebanon-News/2015/May-04/296745-army-shells-militant-positions-near-arsal.ashx">Army shells militant positions near Arsal</a></li>
          <li><a href="{{dailystar}}/News/Middle-East/2015/May-05/296831-syrian-rebels-launch-offensive-in-qalamoun.ashx">Syrian rebels launch offensive in Qalamoun</a></li>
        </ul>
      </div>
      <div class="comments">
        <h3>Comments</h3>
        <div class="fb-comments" data-href="{{dailystar}}/News/Lebanon-News/2015/May-06/296988-hezbollah-assault-on-qalamoun-ruled-out.ashx" data-numposts="10" data-width="620" data-colorscheme="light"></div>
        <p class="comments-policy">The Daily Star reserves the right to remove comments. <a href="/Comments-Policy.ashx">Comments policy</a></p>
      </div>
    </div>
    <div class="side-col">
      <div class="mpu">
        <!-- DailyStar_Lebanon_News_MPU -->
        <div id='div-gpt-ad-1430896220112-1' style='width:300px; height:250px;'>
          <script type='text/javascript'>
            googletag.cmd.push(function() { googletag.display('div-gpt-ad-1430896220112-1'); });
          </script>
        </div>
      </div>
      <div class="most-read">
        <h3>Most Read</h3>
        <ol>
          <li><a href="/News/Lebanon-News/2015/May-05/296852-salam-cabinet-session-ends-without-decision-on-security-appointments.ashx">Salam: Cabinet session ends without decision on security appointments</a></li>
          <li><a href="/Business/Local/2015/May-05/296801-beirut-port-revenues-up-in-april.ashx">Beirut Port revenues up in April</a></li>
        </ol>
      </div>
    </div>
  </div>
  <div id="footer">
    <ul class="footer-links">
      <li><a href="/About-Us.ashx">About Us</a></li>
      <li><a href="/Contact-Us.ashx">Contact Us</a></li>
      <li><a href="/Advertise.ashx">Advertise</a></li>
      <li><a href="/Privacy-Policy.ashx">Privacy Policy</a></li>
      <li><a href="/Terms-Of-Use.ashx">Terms of Use</a></li>
    </ul>
    <p class="copyright">Copyright &copy; 2015, The Daily Star. All Rights Reserved.</p>
  </div>
</div>
</form>
<script type="text/javascript" src="/Scripts/dailystar.js?v=20150428"></script>
<script type="text/javascript">
  var _gaq = _gaq || [];
  _gaq.push(['_setAccount', 'UA-1412453-1']);
  _gaq.push(['_trackPageview']);
  (function() {
    var ga = document.createElement('script'); ga.type = 'text/javascript'; ga.async = true;
    ga.src = ('https:' == document.location.protocol ? 'https://ssl' : 'http://www') + '.google-analytics.com/ga.js';
    var s = document.getElementsByTagName('script')[0]; s.parentNode.insertBefore(ga, s);
  })();
</script>
</body>
</html>
