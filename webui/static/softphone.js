// The softphone in the agent's browser (workspace_softphone.tpl): SIP.js (vendored from npm,
// webui/static/vendor/packages.json) registers the agent's browser phone over Asterisk's
// WebSocket; a call to it rings here and is answered here. Hold, transfer and hang-up are the
// toolbar's (webui/static/workspace.js, the agent API): the call is the one the workspace shows.
// State for people in #sp-line, for tests in #softphone[data-state]:
// starting | registered | unregistered | ringing | talking | refused (microphone) | failed;
// the call's media path (RTCPeerConnection.connectionState) in #softphone[data-media].
import { Registerer, RegistererState, SessionState, UserAgent } from "/static/vendor/sipjs/sip.min.js";

const box = document.getElementById("softphone");
const ws = document.getElementById("ws");
const T = JSON.parse(document.getElementById("softphone-i18n").textContent);
const $ = (id) => document.getElementById(id);
let session = null;  // the call ringing or connected here

function show(state, text, caller) {
  box.dataset.state = state;
  const line = $("sp-line");
  line.textContent = text;
  line.className = "flag " + (state === "registered" || state === "talking" ? "yes" : "no");
  $("sp-caller").textContent = caller || "";
  $("sp-answer").hidden = state !== "ringing";
  $("sp-hangup").hidden = state !== "ringing" && state !== "talking";
}
function problem(state, text) {
  show(state, T["softphone.unregistered"]);
  const p = $("sp-problem");
  p.textContent = text;
  p.hidden = false;
}

// A browser gives the microphone only to a secure page (HTTPS, or this machine itself), and
// a call cannot be answered without one: ask first, and say plainly what is wrong.
async function microphone() {
  if (!window.isSecureContext || !navigator.mediaDevices) {
    problem("failed", T["softphone.insecure"]);
    return false;
  }
  try {
    const stream = await navigator.mediaDevices.getUserMedia({audio: true, video: false});
    stream.getTracks().forEach((track) => track.stop());
    return true;
  } catch (err) {
    const missing = err && (err.name === "NotFoundError" || err.name === "OverconstrainedError");
    problem("refused", T[missing ? "softphone.no_mic" : "softphone.mic_refused"]);
    return false;
  }
}

async function registration() {
  const res = await fetch("/api/v1/agents/" + encodeURIComponent(ws.dataset.agent) + "/softphone",
                          {credentials: "same-origin"});
  const data = await res.json().catch(() => ({}));
  if (!res.ok) throw new Error(T["softphone.error." + String(data.error || "").replace("softphone.", "")] ||
                               data.message || String(res.status));
  return data;
}

function hearRemote(s) {
  const pc = s.sessionDescriptionHandler && s.sessionDescriptionHandler.peerConnection;
  if (!pc) return;
  // the media path (ICE, then DTLS-SRTP) for tests and support: new | connecting | connected | failed...
  const media = () => { box.dataset.media = pc.connectionState; };
  pc.addEventListener("connectionstatechange", media);
  media();
  const stream = new MediaStream();
  pc.getReceivers().forEach((r) => { if (r.track) stream.addTrack(r.track); });
  $("sp-audio").srcObject = stream;
}

function follow(s, caller) {
  session = s;
  show("ringing", T["softphone.ringing"], caller);
  s.stateChange.addListener((state) => {
    if (state === SessionState.Established) {
      hearRemote(s);
      show("talking", T["softphone.talking"], caller);
    } else if (state === SessionState.Terminated) {
      if (session === s) session = null;
      $("sp-audio").srcObject = null;
      delete box.dataset.media;
      show("registered", T["softphone.registered"]);
    }
  });
}

async function start() {
  if (!(await microphone())) return;
  let reg;
  try {
    reg = await registration();
  } catch (err) {
    problem("failed", err.message);
    return;
  }
  const host = location.hostname.indexOf(":") >= 0 ? "[" + location.hostname + "]" : location.hostname;
  const server = (location.protocol === "https:" ? "wss://" : "ws://") + host + ":" + reg.port + reg.path;
  const ua = new UserAgent({
    uri: UserAgent.makeURI("sip:" + reg.extension + "@" + host),
    displayName: reg.display_name || reg.extension,
    authorizationUsername: reg.extension,
    authorizationPassword: reg.password,
    transportOptions: {server: server},
    logLevel: "warn",
    sessionDescriptionHandlerFactoryOptions: {peerConnectionConfiguration: {iceServers: []}},  // the LAN: no STUN
    delegate: {
      onInvite: (invitation) => {
        if (session) { invitation.reject({statusCode: 486}); return; }  // one call at a time
        const who = invitation.remoteIdentity;
        follow(invitation, (who.displayName ? who.displayName + " " : "") + (who.uri.user || ""));
      },
      onDisconnect: (error) => {  // Asterisk restarted, the network dropped: try again every 5 s
        show("unregistered", T["softphone.unregistered"]);
        if (error) again();
      },
    },
  });
  const again = () => setTimeout(() => {
    ua.reconnect().then(() => registerer.register()).catch(again);
  }, 5000);
  const registerer = new Registerer(ua, {expires: 300});
  registerer.stateChange.addListener((state) => {
    if (state === RegistererState.Registered) {
      $("sp-problem").hidden = true;
      show("registered", T["softphone.registered"]);
    }
    else if (state === RegistererState.Unregistered && !session) show("unregistered", T["softphone.unregistered"]);
  });
  $("sp-answer").addEventListener("click", () => {
    if (session && session.state === SessionState.Initial) {
      session.accept({sessionDescriptionHandlerOptions: {constraints: {audio: true, video: false}}});
    }
  });
  $("sp-hangup").addEventListener("click", () => {
    if (!session) return;
    if (session.state === SessionState.Established) session.bye();
    else if (session.state === SessionState.Initial) session.reject();
  });
  window.addEventListener("pagehide", () => { registerer.unregister().catch(() => {}); ua.stop(); });
  try {
    await ua.start();
    await registerer.register();
  } catch (err) {
    problem("failed", T["softphone.connect_failed"].split("{server}").join(server));
    again();
  }
}

start();
