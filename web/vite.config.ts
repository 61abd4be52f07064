// Builds the dashboard into dist/ (index.html + content-hashed assets/NAME.HASH.EXT, the form
// castor serve marks immutable). `npm run dev` proxies the API to a running castor (CASTOR_URL).
import { defineConfig } from 'vite';

const api = process.env.CASTOR_URL ?? 'http://127.0.0.1:8080';
const proxied = ['/models', '/digitaltwins', '/query', '/castor', '/openapi.json', '/healthz'];

export default defineConfig({
  base: '/',
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    chunkSizeWarningLimit: 1200,
    rollupOptions: {
      output: {
        entryFileNames: 'assets/[name].[hash].js',
        chunkFileNames: 'assets/[name].[hash].js',
        assetFileNames: 'assets/[name].[hash][extname]',
        manualChunks: { three: ['three'] },
      },
    },
  },
  server: {
    proxy: Object.fromEntries(proxied.map((p) => [p, { target: api, ws: p === '/castor' }])),
  },
});
