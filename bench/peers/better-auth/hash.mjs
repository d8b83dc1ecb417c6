// The CPU time of one password hash with Better Auth's own function and parameters; prints
// JSON. process.cpuUsage counts every thread of the process, libuv's pool included, and
// nothing else runs here.
import { hashPassword } from "better-auth/crypto";

const rounds = Number(process.argv[2] ?? 7);
const ms = [];
for (let i = 0; i < rounds; i++) {
  const start = process.cpuUsage();
  await hashPassword("velvet-Harbor-2931!");
  const used = process.cpuUsage(start);
  ms.push((used.user + used.system) / 1000);
}
ms.sort((a, b) => a - b);
console.log(JSON.stringify({ algorithm: "scrypt", params: "N=16384,r=16,p=1,dkLen=64", ms: ms[Math.floor(ms.length / 2)] }));
