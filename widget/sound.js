// A short, quiet two-note chime for a message that arrives while the tab is hidden (Web Audio:
// no file to fetch). One AudioContext for the page's life; nothing where audio is missing or refused.
let audio;
export function chime() {
  try {
    const A = window.AudioContext || window.webkitAudioContext;
    if (!A) return;
    audio ||= new A();
    if (audio.state === 'suspended') audio.resume();
    const t = audio.currentTime, tone = audio.createOscillator(), level = audio.createGain();
    tone.type = 'sine';
    tone.frequency.setValueAtTime(880, t);
    tone.frequency.setValueAtTime(660, t + 0.12);
    level.gain.setValueAtTime(0.12, t);
    level.gain.exponentialRampToValueAtTime(0.001, t + 0.3);
    tone.connect(level).connect(audio.destination);
    tone.start(t);
    tone.stop(t + 0.3);
  } catch {}
}
