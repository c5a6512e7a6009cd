import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './App';
import { accessToken } from './session';
import './styles.css';

const root = document.getElementById('root');
if (!root) throw new Error('#root is missing from index.html');
// Silent sign-in from the refresh cookie before the first render, so guarded pages survive a reload.
void accessToken().finally(() => {
  createRoot(root).render(
    <StrictMode>
      <App />
    </StrictMode>,
  );
  document.body.dataset.ready = 'true';
});
