import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { BrowserRouter } from "react-router-dom";
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import "./index.css";
import App from "./App";
import { loadConfig } from "./lib/config";
import { initSupabase } from "./lib/supabase";
import { AuthProvider } from "./lib/auth";
import { ToastProvider } from "./components/Toast";
import { applyTheme, currentTheme, followSystemTheme } from "./lib/theme";
import { describe } from "./lib/errors";

applyTheme(currentTheme());
followSystemTheme();
const root = createRoot(document.getElementById("root")!);

const queryClient = new QueryClient({
  defaultOptions: {
    queries: {
      staleTime: 15000,
      // A person's own mistake (4xx) is not retried; a blip on the way may be, once; a read
      // over the plan's request rate waits for the next minute's allowance (up to a minute).
      retry: (count, err) => {
        const { status } = describe(err);
        if (status === 429) return count < 3;
        return status >= 500 || status === 0 ? count < 1 : false;
      },
      retryDelay: (count, err) =>
        describe(err).status === 429 ? 20000 : Math.min(1000 * 2 ** count, 8000),
    },
  },
});

loadConfig()
  .then((config) => {
    initSupabase(config);
    root.render(
      <StrictMode>
        <BrowserRouter>
          <QueryClientProvider client={queryClient}>
            <AuthProvider>
              <ToastProvider>
                <App />
              </ToastProvider>
            </AuthProvider>
          </QueryClientProvider>
        </BrowserRouter>
      </StrictMode>,
    );
  })
  .catch((err: Error) => {
    root.render(
      <main className="mx-auto max-w-lg p-8">
        <h1 className="text-xl font-bold">VoxFlow could not start</h1>
        <p role="alert" className="mt-2">
          {err.message}. Reload the page; if this keeps happening, the server is misconfigured.
        </p>
      </main>,
    );
  });
