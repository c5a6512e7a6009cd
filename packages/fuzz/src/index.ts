export * from './fuzz';
export * from './schema';
export * from './target';
