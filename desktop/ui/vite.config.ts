import { resolve } from "node:path";
import { defineConfig } from "vite";

// Two pages, one per app: the window opens organizer.html or door.html by --mode.
export default defineConfig({
  clearScreen: false,
  build: {
    target: "safari15",
    outDir: "dist",
    emptyOutDir: true,
    rollupOptions: {
      input: {
        organizer: resolve(__dirname, "organizer.html"),
        door: resolve(__dirname, "door.html"),
      },
    },
  },
});
