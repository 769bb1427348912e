// The widget's stylesheet, scoped to its shadow root. Adopted as a constructed stylesheet
// where the browser can (no <style> element, so a page's CSP style-src does not apply).

export const CSS = `
:host{all:initial}
*,*::before,*::after{box-sizing:border-box}
[hidden]{display:none!important}
.root{--accent:#1d4ed8;--on-accent:#fff;font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans",Arial,sans-serif;color:#111827}
button,input,textarea{font:inherit;color:inherit}
button{cursor:pointer}
:focus-visible{outline:3px solid #f59e0b;outline-offset:2px}
.sr{position:absolute;width:1px;height:1px;margin:-1px;padding:0;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap;border:0}
.launcher{position:fixed;bottom:20px;right:20px;z-index:2147483000;width:58px;height:58px;border-radius:50%;border:0;background:var(--accent);color:var(--on-accent);box-shadow:0 4px 14px rgba(0,0,0,.25);display:flex;align-items:center;justify-content:center}
.left .launcher{right:auto;left:20px}
.launcher svg{width:28px;height:28px;fill:none;stroke:currentColor;stroke-width:2;stroke-linecap:round;stroke-linejoin:round}
.badge{position:absolute;top:-4px;right:-4px;min-width:22px;height:22px;padding:0 6px;border-radius:11px;background:#b91c1c;color:#fff;font-size:12px;font-weight:700;line-height:22px;text-align:center}
.panel{position:fixed;bottom:90px;right:20px;z-index:2147483000;width:min(380px,calc(100vw - 24px));height:min(620px,calc(100vh - 110px));display:flex;flex-direction:column;background:#fff;border-radius:14px;box-shadow:0 10px 40px rgba(0,0,0,.28);overflow:hidden}
.left .panel{right:auto;left:20px}
@media (max-width:480px){.panel{inset:0;width:100%;height:100%;border-radius:0}}
header{display:flex;align-items:center;gap:8px;padding:10px 10px 10px 16px;background:var(--accent);color:var(--on-accent)}
header .titles{flex:1;min-width:0}
h2{margin:0;font-size:16px;font-weight:650;overflow:hidden;text-overflow:ellipsis;white-space:nowrap}
.status{font-size:12px;opacity:.95}
.icon{width:34px;height:34px;border:0;border-radius:8px;background:transparent;color:inherit;display:flex;align-items:center;justify-content:center}
.icon:hover{background:rgba(255,255,255,.18)}
.icon svg{width:20px;height:20px;fill:none;stroke:currentColor;stroke-width:2;stroke-linecap:round;stroke-linejoin:round}
.text-button{border:0;background:transparent;color:inherit;font-size:13px;padding:6px 8px;border-radius:8px;text-decoration:underline}
.screen{flex:1;display:flex;flex-direction:column;min-height:0}
.card{padding:18px 16px;display:flex;flex-direction:column;gap:12px;overflow:auto}
label{font-size:14px;font-weight:600}
.field{display:flex;flex-direction:column;gap:4px}
.hint{font-weight:400;font-size:12px;color:#4b5563}
input,textarea{border:1px solid #6b7280;border-radius:8px;padding:9px 10px;background:#fff;font-weight:400;width:100%}
input[aria-invalid=true]{border-color:#b91c1c}
@media (max-width:480px),(pointer:coarse){input,textarea{font-size:16px}}
.code{font-size:22px;letter-spacing:.3em;text-align:center}
.primary{border:0;border-radius:8px;padding:10px 14px;background:var(--accent);color:var(--on-accent);font-weight:650}
.primary[disabled]{opacity:.6;cursor:default}
.secondary{border:1px solid #6b7280;border-radius:8px;padding:8px 12px;background:#fff;color:#111827}
.row{display:flex;gap:8px;flex-wrap:wrap;align-items:center}
.error{color:#b91c1c;font-size:13px;font-weight:500;margin:0}
.note{color:#374151;font-size:14px;margin:0}
.pad{padding:16px}
.notice{margin:0;padding:10px 12px;background:#fef3c7;color:#713f12;border-radius:8px;font-size:14px}
.log{flex:1;overflow-y:auto;overflow-x:hidden;padding:12px;display:flex;flex-direction:column;gap:8px;background:#f9fafb;margin:0;list-style:none}
.earlier{align-self:center}
.empty{color:#4b5563;text-align:center;margin:auto 0}
.msg{max-width:85%;align-self:flex-start;display:flex;flex-direction:column;gap:2px}
.msg.mine{align-self:flex-end;align-items:flex-end}
.meta{font-size:12px;color:#4b5563;display:flex;gap:6px;flex-wrap:wrap;align-items:center}
.avatar{width:24px;height:24px;border-radius:50%;background:#374151;color:#fff;font-size:11px;font-weight:700;display:inline-flex;align-items:center;justify-content:center;flex:none}
.role{font-size:11px;font-weight:650;padding:0 6px;border-radius:4px;background:#e0e7ff;color:#1e3a8a}
.author{font-weight:650;color:#1f2937}
.bubble{padding:8px 12px;border-radius:14px;background:#e5e7eb;color:#111827;white-space:pre-wrap;overflow-wrap:anywhere;word-break:break-word;max-width:100%;unicode-bidi:plaintext}
.mine .bubble{background:var(--accent);color:var(--on-accent)}
.staff .bubble{background:#fff;border:1px solid #d1d5db}
.bubble a{color:inherit;text-decoration:underline}
.chat-state{margin:0;padding:8px 14px;font-size:13px;background:#ecfdf5;color:#065f46;border-top:1px solid #a7f3d0}
.msg[data-state] .bubble{opacity:.75}
.msg-status{font-size:12px;color:#374151}
.msg-status.bad{color:#b91c1c}
.actions{display:flex;gap:4px}
.actions button{border:0;background:transparent;color:#374151;font-size:12px;padding:2px 6px;border-radius:6px;text-decoration:underline}
.actions button:hover{background:#e5e7eb}
@media (hover:hover){.msg .actions{opacity:0}.msg:hover .actions,.msg:focus-within .actions,.actions[role=group]{opacity:1}}
.edit{display:flex;flex-direction:column;gap:6px;width:100%;min-width:220px}
.typing{min-height:20px;padding:0 14px;font-size:12px;color:#374151}
.composer{display:flex;gap:8px;align-items:flex-end;padding:10px;border-top:1px solid #e5e7eb}
.composer textarea{resize:none;min-height:42px;max-height:140px;flex:1}
.send{width:42px;height:42px;border:0;border-radius:50%;background:var(--accent);color:var(--on-accent);display:flex;align-items:center;justify-content:center;flex:none}
.send svg{width:20px;height:20px;fill:none;stroke:currentColor;stroke-width:2;stroke-linecap:round;stroke-linejoin:round}
[dir=rtl] .send svg{transform:scaleX(-1)}
.counter{font-size:12px;color:#374151;padding:0 12px 6px;text-align:end}
.attach{width:42px;height:42px;border:1px solid #d1d5db;border-radius:50%;background:#fff;color:#374151;display:flex;align-items:center;justify-content:center;flex:none}
.attach svg{width:20px;height:20px;fill:none;stroke:currentColor;stroke-width:2;stroke-linecap:round;stroke-linejoin:round}
.files{list-style:none;margin:0;padding:6px 10px 0;display:flex;flex-wrap:wrap;gap:6px}
.file-chip{display:flex;align-items:center;gap:6px;max-width:100%;border:1px solid #d1d5db;border-radius:8px;padding:4px 4px 4px 8px;font-size:12px;background:#f9fafb}
.file-chip .name{overflow:hidden;text-overflow:ellipsis;white-space:nowrap;max-width:220px}
.file-chip .bad{color:#b91c1c;white-space:normal}
.file-chip progress{width:70px}
.file-chip .remove{border:0;background:transparent;font-size:16px;line-height:1;padding:2px 6px;border-radius:6px;color:#374151}
.screen.dropping{outline:3px dashed var(--accent);outline-offset:-6px}
.attachments{list-style:none;margin:4px 0 0;padding:0;display:flex;flex-direction:column;gap:4px;max-width:100%}
.attachments img{display:block;max-width:220px;max-height:180px;border-radius:8px;border:1px solid #e5e7eb}
.attachments .file{display:inline-block;font-size:13px;padding:6px 10px;border:1px solid #d1d5db;border-radius:8px;background:#fff;color:#1f2937;overflow-wrap:anywhere}
@media (prefers-reduced-motion:no-preference){.panel{animation:pop .15s ease-out}@keyframes pop{from{opacity:0;transform:translateY(8px)}}}
`;
