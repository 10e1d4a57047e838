// GET /: one small HTML page, no external assets. It reads status.json every 2 s (passing on a
// ?token= from its own URL as a bearer token) and draws calls/s and RSS over the last minutes as
// inline SVG. Laid out in one column on a phone, in a grid on a wider screen. Elements tests look
// at carry ids (queue-running, conns-open, calls-total, ...).
export const STATUS_PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1">
<title>grpc-edge status</title>
<style>
body{font:15px/1.4 system-ui,sans-serif;margin:0;padding:12px;background:#f4f5f7;color:#1c2430}
h1{font-size:18px;margin:0 0 4px}h2{font-size:13px;text-transform:uppercase;color:#5b6777;margin:0 0 6px}
#meta{color:#5b6777;font-size:13px;margin-bottom:10px}
.grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(260px,1fr));gap:10px}
.card{background:#fff;border-radius:8px;padding:10px 12px;box-shadow:0 1px 2px #0002}
.big{font-size:26px;font-weight:600}table{width:100%;border-collapse:collapse}
td{padding:2px 0}td+td{text-align:right;font-variant-numeric:tabular-nums}
.ok{color:#17803d}.bad{color:#c0262d}.bar{height:8px;background:#e3e6ea;border-radius:4px;overflow:hidden}
.bar div{height:100%;background:#2f6fdb}.bar.over div{background:#c0262d}
svg{width:100%;height:90px;display:block}#err{color:#c0262d}
</style></head><body>
<h1>grpc-edge</h1>
<div id="meta">version <b id="version">?</b> · profile <b id="profile">?</b> · node <span id="node">?</span> · up <b id="uptime">?</b> <span id="err"></span></div>
<div class="grid">
<div class="card"><h2>Calls</h2><div><span class="big" id="calls-rate">0</span> calls/s</div>
<div><span id="calls-total">0</span> handled, <span id="calls-errors">0</span> not OK</div>
<svg id="g-calls" viewBox="0 0 300 90" preserveAspectRatio="none"></svg><table id="codes"></table></div>
<div class="card"><h2>Memory</h2><div><span class="big" id="mem-rss">0</span> MB RSS of <span id="mem-budget">0</span> MB budget</div>
<div class="bar" id="mem-bar"><div style="width:0"></div></div><div>heap <span id="mem-heap">0</span> MB · event-loop delay p99 <span id="eld">0</span> ms</div>
<svg id="g-mem" viewBox="0 0 300 90" preserveAspectRatio="none"></svg></div>
<div class="card"><h2>Queue</h2><table>
<tr><td>running</td><td><b id="queue-running">0</b> / <span id="queue-max-running">0</span></td></tr>
<tr><td>waiting</td><td><b id="queue-waiting">0</b> / <span id="queue-max-waiting">0</span></td></tr>
<tr><td>rejected</td><td id="queue-rejected">0</td></tr></table></div>
<div class="card"><h2>Connections</h2><table>
<tr><td>open</td><td><b id="conns-open">0</b></td></tr><tr><td>refused</td><td id="conns-refused">0</td></tr>
<tr><td>evicted</td><td id="conns-evicted">0</td></tr><tr><td>closed</td><td id="conns-closed">0</td></tr></table></div>
<div class="card"><h2>Services</h2><table id="svc"></table></div>
<div class="card"><h2>HTTP/2 limits hit</h2><table id="limits"></table></div>
</div>
<script>
"use strict";
var q=location.search.match(/[?&]token=([^&]*)/),hdr=q?{Authorization:"Bearer "+decodeURIComponent(q[1])}:{};
function $(i){return document.getElementById(i)}
function t(i,v){$(i).textContent=v}
function mb(b){return (b/1048576).toFixed(1)}
function dur(s){s=Math.floor(s);var d=Math.floor(s/86400),h=Math.floor(s%86400/3600),m=Math.floor(s%3600/60);return (d?d+"d ":"")+(d||h?h+"h ":"")+m+"m "+s%60+"s"}
function rows(id,list){var e=$(id);e.textContent="";list.forEach(function(r){var tr=e.insertRow();tr.insertCell().textContent=r[0];var c=tr.insertCell();c.textContent=r[1];if(r[2])c.className=r[2]})}
function graph(id,pts,label,top){var s=$(id);if(pts.length<2){s.innerHTML="";return}
var x0=pts[0][0],x1=pts[pts.length-1][0],m=top||0;pts.forEach(function(p){if(p[1]>m)m=p[1]});if(m<=0)m=1;
var d=pts.map(function(p,i){return(i?"L":"M")+((p[0]-x0)/((x1-x0)||1)*300).toFixed(1)+" "+(88-p[1]/m*74).toFixed(1)}).join("");
s.innerHTML='<path d="'+d+'" fill="none" stroke="#2f6fdb" stroke-width="2" vector-effect="non-scaling-stroke"/><text x="2" y="10" font-size="10" fill="#5b6777">'+label+" (scale "+(Math.round(m*10)/10)+", last "+Math.round((x1-x0)/1000)+" s)</text>"}
function show(j){
t("version",j.version);t("profile",j.profile);t("node",j.node);t("uptime",dur(j.uptimeSeconds));t("err","");
t("calls-rate",j.calls.callsPerSecond.toFixed(1));t("calls-total",j.calls.handled);t("calls-errors",j.calls.handled-(j.calls.byCode.OK||0));
rows("codes",Object.keys(j.calls.byCode).map(function(k){return[k,j.calls.byCode[k],k==="OK"?"ok":"bad"]}));
var mm=j.memory;t("mem-rss",mb(mm.rss));t("mem-budget",Math.round(mm.budget/1048576));t("mem-heap",mb(mm.heapUsed));t("eld",(j.eventLoop.p99*1000).toFixed(1));
var f=mm.rss/mm.budget,bar=$("mem-bar");bar.firstChild.style.width=Math.min(100,f*100).toFixed(1)+"%";bar.className=f>1?"bar over":"bar";
var qq=j.queue;t("queue-running",qq.running);t("queue-max-running",qq.maxRunning);t("queue-waiting",qq.waiting);t("queue-max-waiting",qq.maxWaiting);t("queue-rejected",qq.rejected);
var c=j.connections;t("conns-open",c.open);t("conns-refused",c.capRefused);t("conns-evicted",c.capEvicted);t("conns-closed",c.closed);
rows("svc",j.serving.map(function(s){return[s.name,s.status,s.status==="SERVING"?"ok":"bad"]}));
var lim=Object.keys(j.http2.limits).filter(function(k){return j.http2.limits[k]>0}).map(function(k){return[k,j.http2.limits[k],"bad"]});
rows("limits",lim.length?lim:[["none",0,"ok"]]);
var h=j.history,rate=[],mem=[];for(var i=1;i<h.length;i++){var dt=(h[i][0]-h[i-1][0])/1000;if(dt>0)rate.push([h[i][0],(h[i][1]-h[i-1][1])/dt])}
h.forEach(function(p){mem.push([p[0],p[2]/1048576])});graph("g-calls",rate,"calls/s");graph("g-mem",mem,"RSS MB",mm.budget/1048576);
var b=document.body;b.setAttribute("data-updated",String(j.time));b.setAttribute("data-updates",String(+(b.getAttribute("data-updates")||0)+1))}
function tick(){fetch("status.json",{headers:hdr,cache:"no-store"}).then(function(r){if(!r.ok)throw new Error("HTTP "+r.status);return r.json()}).then(show).catch(function(e){t("err","("+e.message+")")}).then(function(){setTimeout(tick,2000)})}
tick();
</script></body></html>
`;
