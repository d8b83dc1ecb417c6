import type { NextConfig } from "next";

const config: NextConfig = {
  // The app talks to the Latchkey server from the server side only; nothing here needs images
  // optimised or fonts downloaded, which keeps it working on a machine with no internet.
  poweredByHeader: false,
  reactStrictMode: true,
  typescript: { ignoreBuildErrors: false },
};

export default config;
