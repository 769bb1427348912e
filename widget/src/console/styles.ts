// The console's stylesheet: adopted as a constructed stylesheet (no <style> element and no
// style attribute, so the page's CSP needs no style-src at all).

export const CSS = `
*,*::before,*::after{box-sizing:border-box}
[hidden]{display:none!important}
html,body{margin:0;height:100%}
body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans",Arial,sans-serif;color:#111827;background:#f3f4f6}
button,input,select,textarea{font:inherit;color:inherit}
button{cursor:pointer}
:focus-visible{outline:3px solid #f59e0b;outline-offset:2px}
.sr{position:absolute;width:1px;height:1px;margin:-1px;padding:0;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap;border:0}
.btn{border:1px solid #1d4ed8;background:#1d4ed8;color:#fff;border-radius:6px;padding:6px 12px;font-weight:600}
.btn.quiet{background:#fff;color:#1d4ed8}
.btn.note{background:#92400e;border-color:#92400e}
.btn:disabled{opacity:.6;cursor:default}
.signin{max-width:24rem;margin:10vh auto;background:#fff;border:1px solid #d1d5db;border-radius:10px;padding:24px}
.signin h1{margin:0 0 16px;font-size:1.4rem}
.field{display:flex;flex-direction:column;gap:4px;margin-bottom:12px}
.field input,.field select{border:1px solid #6b7280;border-radius:6px;padding:8px}
.error{color:#b91c1c;margin:8px 0}
.app{display:grid;grid-template-rows:auto 1fr;height:100vh}
.top{display:flex;align-items:center;gap:12px;padding:8px 16px;background:#1e3a8a;color:#fff}
.top h1{font-size:1.1rem;margin:0;flex:1}
.top .who{font-size:.9rem}
.top .state{font-size:.8rem;padding:2px 8px;border-radius:10px;background:#1e40af}
.top .btn{background:#fff;color:#1e3a8a;border-color:#fff}
.top select{color:#111827;background:#fff;border:1px solid #fff;border-radius:6px;padding:4px}
.panes{display:grid;grid-template-columns:minmax(300px,380px) 1fr;min-height:0}
.inbox{display:flex;flex-direction:column;border-right:1px solid #d1d5db;background:#fff;min-height:0}
.filters{display:flex;flex-wrap:wrap;gap:8px;padding:10px;border-bottom:1px solid #e5e7eb;align-items:end}
.filters .field{margin:0}
.filters label{font-size:.8rem;color:#374151}
.tabs{display:flex;gap:4px;width:100%}
.tabs button{flex:1;border:1px solid #9ca3af;background:#fff;border-radius:6px;padding:4px 6px}
.tabs button[aria-pressed=true]{background:#1d4ed8;border-color:#1d4ed8;color:#fff}
.rows{list-style:none;margin:0;padding:0;overflow-y:auto;flex:1}
.row{display:block;width:100%;text-align:left;border:0;border-bottom:1px solid #e5e7eb;background:#fff;padding:10px 12px}
.row:hover{background:#f9fafb}
.row[aria-current=true]{background:#eff6ff;box-shadow:inset 3px 0 0 #1d4ed8}
.row .line{display:flex;gap:8px;align-items:baseline}
.row .name{font-weight:700;flex:1;overflow:hidden;text-overflow:ellipsis;white-space:nowrap}
.row .email,.row .preview,.row .who{display:block}
.row .email{color:#4b5563;font-size:.85rem;overflow:hidden;text-overflow:ellipsis;white-space:nowrap}
.row .preview{color:#374151;font-size:.9rem;overflow:hidden;text-overflow:ellipsis;white-space:nowrap}
.row .waiting{color:#92400e;font-size:.8rem;white-space:nowrap}
.row .who{color:#4b5563;font-size:.8rem}
.unread{min-width:22px;height:22px;padding:0 6px;border-radius:11px;background:#b91c1c;color:#fff;font-size:12px;font-weight:700;line-height:22px;text-align:center}
.empty{padding:24px;color:#4b5563;text-align:center}
.conv{display:flex;flex-direction:column;min-height:0;background:#f9fafb}
.conv header{display:flex;flex-wrap:wrap;gap:8px;align-items:center;padding:10px 16px;background:#fff;border-bottom:1px solid #e5e7eb}
.conv header h2{margin:0;font-size:1.1rem;flex:1;min-width:10rem;overflow-wrap:anywhere}
.conv header .meta{width:100%;color:#4b5563;font-size:.85rem}
.log{flex:1;overflow-y:auto;padding:12px 16px;display:flex;flex-direction:column;gap:8px}
.msg{max-width:75%;display:flex;flex-direction:column}
.msg .by{font-size:.8rem;color:#4b5563}
.msg .bubble{padding:8px 12px;border-radius:12px;background:#fff;border:1px solid #d1d5db;white-space:pre-wrap;overflow-wrap:anywhere}
.msg.staff{align-self:flex-end}
.msg.staff .bubble{background:#1d4ed8;border-color:#1d4ed8;color:#fff}
.msg.staff .bubble a{color:#fff}
.msg.internal .bubble{background:#fef3c7;border:1px dashed #92400e;color:#451a03}
.msg.internal .by{color:#92400e;font-weight:600}
.more{align-self:center}
.compose{display:flex;flex-direction:column;gap:6px;padding:10px 16px;background:#fff;border-top:1px solid #e5e7eb}
.compose.internal{background:#fffbeb}
.attach{width:34px;height:34px;border:1px solid #9ca3af;border-radius:6px;background:#fff;color:#374151;display:flex;align-items:center;justify-content:center}
.attach svg{width:18px;height:18px;fill:none;stroke:currentColor;stroke-width:2;stroke-linecap:round;stroke-linejoin:round}
.files{list-style:none;margin:0;padding:0;display:flex;flex-wrap:wrap;gap:6px}
.file-chip{display:flex;align-items:center;gap:6px;border:1px solid #d1d5db;border-radius:6px;padding:2px 2px 2px 8px;font-size:13px;background:#f9fafb}
.file-chip .bad{color:#b91c1c}
.file-chip .remove{border:0;background:transparent;font-size:16px;padding:2px 6px;color:#374151}
.thread.dropping{outline:3px dashed #1d4ed8;outline-offset:-6px}
.attachments{list-style:none;margin:4px 0 0;padding:0;display:flex;flex-direction:column;gap:4px}
.attachments img{display:block;max-width:260px;max-height:200px;border-radius:6px;border:1px solid #d1d5db}
.attachments .file{display:inline-block;padding:6px 10px;border:1px solid #d1d5db;border-radius:6px;background:#fff;color:#1e3a8a}
.compose .btn.quiet[aria-pressed=true]{background:#1d4ed8;color:#fff}
.compose.internal .btn.quiet[aria-pressed=true]{background:#92400e;border-color:#92400e;color:#fff}
.compose textarea{width:100%;min-height:64px;resize:vertical;border:1px solid #6b7280;border-radius:6px;padding:8px}
.compose .line{display:flex;gap:8px;align-items:center}
.compose .hint{flex:1;font-size:.85rem;color:#4b5563}
.compose.internal .hint{color:#92400e;font-weight:600}
.placeholder{margin:auto;color:#4b5563}
.row.chosen{box-shadow:inset 3px 0 0 #f59e0b}
.keys{margin:0;padding:6px 12px;border-top:1px solid #e5e7eb;font-size:.8rem;color:#4b5563}
.keys kbd{font:inherit;font-weight:700;border:1px solid #9ca3af;border-radius:4px;padding:0 4px;background:#f9fafb}
.conv .body{display:flex;flex:1;min-height:0}
.conv .thread{display:flex;flex-direction:column;flex:1;min-width:0}
.typing{margin:0;min-height:1.4em;padding:0 16px;font-size:.85rem;color:#374151;font-style:italic}
.snooze{display:flex;flex-wrap:wrap;gap:8px;align-items:center;padding:8px 16px;background:#fff;border-bottom:1px solid #e5e7eb}
.snooze select,.snooze input{border:1px solid #6b7280;border-radius:6px;padding:5px}
.visitor{width:250px;flex:none;padding:12px 16px;background:#fff;border-left:1px solid #e5e7eb;overflow-y:auto;display:flex;flex-direction:column;gap:8px;align-items:flex-start}
.visitor h3{margin:0;font-size:1rem}
.visitor dl{margin:0;display:grid;grid-template-columns:auto 1fr;gap:2px 8px;font-size:.9rem}
.visitor dt{color:#4b5563}
.visitor dd{margin:0;overflow-wrap:anywhere}
.visitor .said{margin:0;font-size:.85rem;overflow-wrap:anywhere}
.top{flex-wrap:wrap}
.top .btn[aria-pressed=true]{background:#f59e0b;border-color:#f59e0b;color:#111827}
.team{overflow-y:auto;padding:16px;display:grid;grid-template-columns:repeat(auto-fill,minmax(340px,1fr));gap:16px;align-content:start}
.card{background:#fff;border:1px solid #d1d5db;border-radius:10px;padding:16px;min-width:0}
.card h2{margin:0 0 8px;font-size:1.1rem}
.card h3{margin:16px 0 8px;font-size:1rem}
.card .hint{margin:0 0 8px;font-size:.85rem;color:#4b5563}
.card .line{display:flex;flex-wrap:wrap;gap:8px;align-items:end}
.card textarea,.card input[type=text],.card input[type=url],.card input[type=number],.card input[type=email],.card select{border:1px solid #6b7280;border-radius:6px;padding:6px;max-width:100%}
.card textarea{width:100%}
.card .said{margin:8px 0 0;font-size:.9rem;overflow-wrap:anywhere}
.team>.card:first-of-type,.team .settings{grid-column:1/-1}
.settings{display:grid;grid-template-columns:repeat(auto-fill,minmax(340px,1fr));gap:16px}
.members{width:100%;border-collapse:collapse;font-size:.9rem}
.members th,.members td{text-align:left;padding:6px 8px;border-bottom:1px solid #e5e7eb;overflow-wrap:anywhere}
.week{border:1px solid #d1d5db;border-radius:6px;margin:8px 0;padding:6px 8px;display:flex;flex-direction:column;gap:4px}
.week .day{display:grid;grid-template-columns:auto 2.5rem minmax(0,1fr) auto minmax(0,1fr);gap:6px;align-items:center}
.week .day input[type=time]{min-width:0;width:100%;padding:2px;font-size:.85rem}
.hooks{list-style:none;margin:0 0 8px;padding:0}
.hooks li{display:flex;gap:8px;align-items:center;justify-content:space-between;padding:4px 0;border-bottom:1px solid #e5e7eb}
.hooks .url{overflow-wrap:anywhere}
@media (max-width:1100px){.conv .body{flex-direction:column-reverse}.visitor{width:auto;flex-direction:row;flex-wrap:wrap;align-items:center;border-left:0;border-top:1px solid #e5e7eb;padding:8px 16px;max-height:40%}.visitor h3{width:100%}}
@media (max-width:900px){.panes{grid-template-columns:minmax(260px,320px) 1fr}.msg{max-width:90%}}
`;

export function adopt(): void {
  const sheet = new CSSStyleSheet();
  sheet.replaceSync(CSS);
  document.adoptedStyleSheets = [sheet];
}
