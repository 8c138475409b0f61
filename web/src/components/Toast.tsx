// Short confirmations ("Agent saved") on Radix Toast: announced politely, dismissible.
import * as RadixToast from "@radix-ui/react-toast";
import { createContext, useCallback, useContext, useState, type ReactNode } from "react";

interface Toast {
  id: number;
  title: string;
  description?: string;
  tone: "success" | "error";
}

const ToastContext = createContext<(toast: Omit<Toast, "id">) => void>(() => undefined);

export function ToastProvider({ children }: { children: ReactNode }) {
  const [toasts, setToasts] = useState<Toast[]>([]);
  const push = useCallback((toast: Omit<Toast, "id">) => {
    setToasts((all) => [...all, { ...toast, id: Date.now() + Math.random() }]);
  }, []);
  return (
    <ToastContext.Provider value={push}>
      <RadixToast.Provider duration={5000}>
        {children}
        {toasts.map((t) => (
          <RadixToast.Root
            key={t.id}
            onOpenChange={(open) => {
              if (!open) setToasts((all) => all.filter((x) => x.id !== t.id));
            }}
            className={`rounded-md border p-3 text-sm shadow-lg ${
              t.tone === "error"
                ? "border-red-300 bg-red-50 text-red-950 dark:bg-red-950 dark:text-red-50"
                : "border-emerald-300 bg-emerald-50 text-emerald-950 dark:bg-emerald-950 dark:text-emerald-50"
            }`}
          >
            <RadixToast.Title className="font-semibold">{t.title}</RadixToast.Title>
            {t.description && <RadixToast.Description>{t.description}</RadixToast.Description>}
            <RadixToast.Close className="mt-1 text-xs underline">Dismiss</RadixToast.Close>
          </RadixToast.Root>
        ))}
        <RadixToast.Viewport className="fixed right-4 bottom-4 z-50 flex w-80 max-w-[calc(100vw-2rem)] flex-col gap-2" />
      </RadixToast.Provider>
    </ToastContext.Provider>
  );
}

export function useToast() {
  return useContext(ToastContext);
}
