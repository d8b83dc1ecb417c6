// The time of one password hash with Better Auth's own function and parameters; prints JSON.
import { hashPassword } from "better-auth/crypto";

const rounds = Number(process.argv[2] ?? 7);
const ms = [];
for (let i = 0; i < rounds; i++) {
  const start = performance.now();
  await hashPassword("velvet-Harbor-2931!");
  ms.push(performance.now() - start);
}
ms.sort((a, b) => a - b);
console.log(JSON.stringify({ algorithm: "scrypt", params: "N=16384,r=16,p=1,dkLen=64", ms: ms[Math.floor(ms.length / 2)] }));
